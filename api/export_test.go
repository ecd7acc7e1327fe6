package api

import "time"

// Routes returns the patterns of every route s serves.
func (s *Server) Routes() []string { return s.patterns }

// SetNow sets the clock that login codes expire by.
func (s *Server) SetNow(now func() time.Time) {
	s.logins.mu.Lock()
	defer s.logins.mu.Unlock()
	s.logins.now = now
}
