// Package netlab builds, in Linux network namespaces, a small internet with
// home routers doing NAT, for end-to-end tests of NAT traversal (relays,
// hole punching).
//
// A lab is one namespace holding a bridge, the internet (198.18.0.0/24),
// and a namespace per host: public hosts sit on the internet; a NATed host
// sits on its own LAN (198.19.N.0/24) behind a router namespace that
// masquerades it with nftables, endpoint-independent or symmetric.
//
//	lab := netlab.New(t)
//	helper := lab.PublicHost("helper")
//	alice := lab.NATHost("alice", netlab.EndpointIndependent)
//	cmd := alice.Command(ctx, exe, args...) // runs inside alice's namespace
//	newIP := lab.ChangePublicIP(t, alice)   // her router gets a new address
//
// Rules the lab keeps:
//   - Only addresses in 198.18.0.0/15 (RFC 2544) are assigned, IPv6 is off
//     in every namespace, and nothing is created in the root namespace: no
//     interface, no route, no bridge to a host interface. Traffic never
//     leaves the lab. There is no DNS.
//   - Every namespace is named bclab-<pid>-<lab>-<name>, pid being the test
//     process's. New first removes the namespaces of labs whose process is
//     gone (a killed run), never those of a live one; the test's Cleanup
//     removes the lab's own, killing what still runs in them.
//   - Where the lab cannot be built (not root, not Linux, ip, nft or sysctl
//     missing, namespaces or nftables NAT refused), New skips the test, or
//     fails it if the environment variable CI is set.
//
// Build the topology from the goroutine of the test that made the lab: the
// lab reports its failures through that test's Fatal. ChangePublicIP takes
// the (sub)test it reports to.
package netlab
