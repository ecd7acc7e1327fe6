package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/crypto/room"
)

// TestBrowserRoomNames: names in a live room, in four browsers. The host
// goes by its profile name; Lee joins under a name of his own for the room,
// Kim with no name, Vera (the host's contact, whose safety number the host
// checked) by her profile name. Everyone sees each line's sender by the
// rule the daemon gives: the host as "Host" with a host tag, Lee as his
// room name, Kim as the end of her peer ID, and, on the host's screen
// only, Vera with a ✓ labelled "verified". The people list shows the
// roles, and the moderator role the host grants from Lee's line. Kim takes
// Lee's name through the room's name control: everyone sees the change,
// and the two keys told apart by the ends of their peer IDs.
func TestBrowserRoomNames(t *testing.T) {
	browser := newBrowser(t)
	host := newUser(t, browser, "Host")
	boot := host.n.Addrs()[0].String() + "/p2p/" + host.peerID()
	lee := newUser(t, browser, "Lee", boot)
	kim := newUser(t, browser, "Kim", boot)
	vera := newUser(t, browser, "Vera", boot)
	befriend(t, host, vera)
	if err := host.n.SetVerified(vera.n.ID(), true); err != nil {
		t.Fatal(err)
	}
	everyone := []*user{host, lee, kim, vera}
	leeEnd, kimEnd := "…"+lee.peerID()[len(lee.peerID())-8:], "…"+kim.peerID()[len(kim.peerID())-8:]

	// The host creates the room under its profile name, the default.
	host.goTo("#/rooms", "rooms")
	host.waitJS("the profile name chosen by default", `document.querySelector('#create-as-profile').checked && `+containsText("#create-as label", "Your profile name (Host)"))
	host.typeIn("#f-create-room-name", "Harbour")
	host.click(".create-room button[type=submit]")
	host.waitJS("the new room", `location.hash.startsWith('#/room/') && document.querySelector('#room-title').textContent === 'Harbour'`)
	roomID := strings.TrimPrefix(eval[string](host, `location.hash`), "#/room/")
	host.waitJS("the host's name in the room", containsText("#room-name-summary", "Host (your profile name)"))

	// Lee joins under a name for this room (typing it chooses it), Kim
	// with none. Vera first forgets to type the name she chose: the form
	// says so; then she takes her profile name.
	join := func(u *user, choose func()) {
		u.goTo("#/rooms", "rooms")
		u.typeIn("#f-join-room-ref", roomID)
		choose()
		u.click(".join-room button[type=submit]")
		u.waitJS(u.name+" in the room", `location.hash === '#/room/`+roomID+`'`)
	}
	join(lee, func() {
		lee.typeIn("#join-as-name", "Captain")
		lee.waitJS("a name of his own chosen", `document.querySelector('#join-as-own').checked`)
	})
	join(kim, func() { kim.click("#join-as-none") })
	join(vera, func() {
		vera.click("#join-as-own")
		vera.click(".join-room button[type=submit]")
		vera.waitJS("the missing name told", containsText(".join-room .form-status.error", "Type the name"))
		vera.click("#join-as-profile")
	})

	say := func(u *user, text string) {
		u.typeIn("#room-say", text)
		u.click(".room-say-form button[type=submit]")
	}
	say(host, "Welcome aboard")
	say(lee, "Aye from the bridge")
	say(kim, "Hello from nowhere")
	say(vera, "Vera here")

	// What each user sees of each line's sender: the name to show, the
	// role's tag, and whether a ✓ says "verified".
	type label struct {
		name, tag string
		verified  bool
	}
	sees := map[*user]map[string]label{
		host: {"Welcome aboard": {"Host (you)", "host", false}, "Aye from the bridge": {"Captain", "", false},
			"Hello from nowhere": {kimEnd, "", false}, "Vera here": {"Vera", "", true}},
		lee: {"Welcome aboard": {"Host", "host", false}, "Aye from the bridge": {"Captain (you)", "", false},
			"Hello from nowhere": {kimEnd, "", false}, "Vera here": {"Vera", "", false}},
		kim: {"Welcome aboard": {"Host", "host", false}, "Aye from the bridge": {"Captain", "", false},
			"Hello from nowhere": {"you", "", false}, "Vera here": {"Vera", "", false}},
		vera: {"Welcome aboard": {"Host", "host", false}, "Aye from the bridge": {"Captain", "", false},
			"Hello from nowhere": {kimEnd, "", false}, "Vera here": {"Vera (you)", "", false}},
	}
	for _, u := range everyone {
		for text, l := range sees[u] {
			u.waitJS(fmt.Sprintf("%q from %q", text, l.name), labelled(chatSender(text), l.name, l.tag, l.verified))
		}
		u.waitJS("four people here", `document.querySelectorAll('#room-people .person').length === 4`)
		u.waitJS("the host listed first, as host", `document.querySelector('#room-people .person').dataset.role === 'host' && `+
			`document.querySelector('#room-people .person .tag').textContent === 'host'`)
	}
	// Lee's choice shows as chosen when he opens the name control.
	lee.click("#room-name-box summary")
	lee.waitJS("Lee's own name chosen", `document.querySelector('#room-as-own').checked && document.querySelector('#room-as-name').value === 'Captain'`)
	lee.waitJS("Lee's name in the summary", `document.querySelector('#room-name-summary').textContent === 'Captain'`)

	// The host makes Lee a moderator from his line; everyone sees the role
	// in the people list and on his line.
	host.click(`#room-chat .chat-line button.mod[aria-label="Make moderator: Captain, for 2 hours"]`)
	for _, u := range everyone {
		u.waitJS("Lee listed as moderator", fmt.Sprintf(`(p => p && p.dataset.role === 'moderator' && p.querySelector('.tag').textContent === 'moderator')(document.querySelector('#room-people .person[data-peer=%q]'))`, lee.peerID()))
		u.waitJS("Lee's line tagged moderator", `(s => s && s.querySelector('.tag')?.textContent === 'moderator')(`+chatSender("Aye from the bridge")+`)`)
		u.waitJS("the moderator listed second", fmt.Sprintf(`document.querySelectorAll('#room-people .person')[1].dataset.peer === %q`, lee.peerID()))
	}
	host.waitJS("no grant offered for a moderator", `!document.querySelector('#room-chat button.mod[aria-label="Make moderator: Captain, for 2 hours"]')`)

	// Kim chooses a name through the room's control. A name the room
	// refuses (over 64 bytes) is told in the form; then she takes Lee's.
	kim.click("#room-name-box summary")
	kim.waitJS("no name chosen", `document.querySelector('#room-as-none').checked`)
	setName := func(name string) {
		eval[bool](kim, `(() => { const i = document.querySelector('#room-as-name'); i.value = `+jsString(name)+`; i.dispatchEvent(new Event('input', {bubbles: true})); return true })()`)
		kim.waitJS("a name of her own chosen", `document.querySelector('#room-as-own').checked`)
		kim.click(".my-room-name button[type=submit]")
	}
	setName(strings.Repeat("€", 30))
	kim.waitJS("the refusal in the form", containsText(".my-room-name .form-status.error", "at most 64 bytes"))
	setName("Captain")
	kim.waitJS("saved", `(s => s.textContent.startsWith('Saved') && !s.classList.contains('error'))(document.querySelector('.my-room-name .form-status'))`)
	kim.waitJS("Kim's new name in the summary", `document.querySelector('#room-name-summary').textContent === 'Captain'`)
	kim.waitJS("Lee told apart on Kim's screen", labelled(fmt.Sprintf(`document.querySelector('#room-people .person[data-peer=%q] .person-label')`, lee.peerID()), "Captain ("+leeEnd+")", "moderator", false))
	eval[bool](kim, `(() => { window.scrollTo(0, 0); return true })()`)
	kim.shot("room-name-choice")
	say(kim, "Now with a name")

	// Two keys claim "Captain": each is shown with the end of its peer ID,
	// to everyone but itself; Kim's earlier line keeps the name it was
	// written under (none).
	for _, u := range everyone {
		lees, kims := "Captain ("+leeEnd+")", "Captain ("+kimEnd+")"
		switch u {
		case lee:
			lees = "Captain (you)"
		case kim:
			kims = "Captain (you)"
		}
		u.waitJS("Kim's new name in the people list", labelled(fmt.Sprintf(`document.querySelector('#room-people .person[data-peer=%q] .person-label')`, kim.peerID()), kims, "", false))
		u.waitJS("Lee told apart in the people list", labelled(fmt.Sprintf(`document.querySelector('#room-people .person[data-peer=%q] .person-label')`, lee.peerID()), lees, "moderator", false))
		u.waitJS("Kim's new line", labelled(chatSender("Now with a name"), kims, "", false))
		u.waitJS("Lee's line told apart", labelled(chatSender("Aye from the bridge"), lees, "moderator", false))
		if u != kim {
			u.waitJS("Kim's first line, nameless", labelled(chatSender("Hello from nowhere"), kimEnd, "", false))
		}
	}
	host.waitJS("Vera verified in the people list", fmt.Sprintf(`document.querySelector('#room-people .person[data-peer=%q] .verified[aria-label="verified"]') !== null`, vera.peerID()))
	host.shot("room-names")

	// The host's node, through the API the UI uses, agrees.
	id, err := room.ParseID(roomID)
	if err != nil {
		t.Fatal(err)
	}
	people, err := host.n.RoomPeople(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(people.Present) != 4 || people.Present[0].Display != "Host (you)" {
		t.Errorf("the host's node lists %+v", people.Present)
	}
}

// chatSender is a JavaScript expression for the sender of the room chat
// line whose text is text (undefined while there is none).
func chatSender(text string) string {
	return `[...document.querySelectorAll('#room-chat .chat-line')].find(l => l.querySelector('.text')?.textContent === ` + jsString(text) + `)?.querySelector('.sender')`
}

// labelled is a JavaScript test that the person element el shows name, the
// role tag tag ("" for none), and a ✓ labelled "verified" when verified.
func labelled(el, name, tag string, verified bool) string {
	return fmt.Sprintf(`(e => !!e && e.querySelector('.person-name').textContent === %s && (e.querySelector('.tag')?.textContent || '') === %s && !!e.querySelector('.verified[aria-label="verified"]') === %t)(%s)`,
		jsString(name), jsString(tag), verified, el)
}
