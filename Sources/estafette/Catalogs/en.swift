// English: the reference catalog. Every key the CLI uses is here; other catalogs translate these.
// Arguments are {1}, {2}, …; KEY.one / KEY.other are the singular and plural forms (English: 1 is singular).

extension Catalog {
    static let english = Catalog(code: "en", name: "English", plural: { $0 == 1 ? .one : .other }, strings: [
        // The root command, its help and the first screen.
        "root.abstract": "Send and read messages through the local Estafette mesh daemon.",
        "root.discussion": """
            Every command talks to a running `estafetted` over its Unix socket. Pass --json to any command to \
            get the daemon's result as one line of JSON (for scripts; always in English).

            FIRST TEN MINUTES (two people on one Wi-Fi):
              estafetted                              start the daemon (or scripts/run.sh)
              estafette invite --name Alice           your invite: one line and a QR code
              estafette contacts add bob 'estafette:invite?…'
                                                      add Bob from his invite
              estafette contacts safety-number bob    read the digits aloud with Bob;
              estafette contacts verify bob           if they match, mark him verified
              estafette send bob "meet at 6"          a sealed direct message
              estafette inbox                         what arrived (estafette watch: live)

            CHANNELS (a group that shares a passphrase):
              estafette channel join assemblee        asks for the passphrase
              estafette channel post assemblee "AG at 6 pm" --expires 2h

            AT A CHECKPOINT:
              estafette wipe --yes                    destroy keys, messages, contacts

            Guide: docs/guide.md. Messages follow LC_ALL, LC_MESSAGES or LANG (English, French).
            """,
        "opt.socket": "Path of estafetted's Unix socket (default: $ESTAFETTE_SOCKET, else your own daemon's socket, else the system service's /run/estafette/estafetted.sock).",
        "opt.json": "Print the daemon's result as one line of JSON.",
        "welcome.title": "Estafette: messages that travel from device to device, without the Internet.",
        "welcome.first": "To start:",
        "welcome.step.daemon": "Start the daemon (leave it running):",
        "welcome.step.invite": "Make an invite for a friend:",
        "welcome.step.add": "Add their invite as a contact:",
        "welcome.step.send": "Send a message:",
        "welcome.then": "Then:",
        "welcome.then.read": "read what arrived",
        "welcome.then.channel": "a group that shares a passphrase",
        "welcome.then.help": "every command, with examples",
        "welcome.guide": "Guide: docs/guide.md (the first ten minutes, channels, checkpoints).",
        "welcome.exampleName": "Alice",
        "welcome.exampleText": "hello",

        // Errors.
        "error.prefix": "estafette:",
        "error.daemonNotRunning": "cannot reach estafetted at {1} ({2}); is the daemon running? Start it with `estafetted`, or point to its socket with --socket or ESTAFETTE_SOCKET.",
        "error.connectionClosed": "estafetted closed the connection before answering",
        "error.badResponse": "unexpected answer from estafetted: {1}",
        "error.unexpectedShape": "{1} sent data of an unexpected shape",
        // A daemon's error by its code: {1} is the daemon's own (English) message.
        "rpc.-32001": "{1}",
        "rpc.-32002": "{1}",
        "rpc.-32003": "{1}",
        "rpc.-32004": "{1}",
        "rpc.-32005": "{1}",
        "rpc.-32006": "{1}",
        "rpc.-32007": "{1}",
        "rpc.-32010": "{1}",
        "rpc.-32020": "{1}",
        "rpc.-32021": "{1}",
        "rpc.-32022": "{1}",
        "rpc.-32030": "{1}",
        "rpc.-32031": "{1}",
        "rpc.-32040": "{1}",
        "rpc.-32050": "{1}",
        "rpc.-32051": "{1}",
        "rpc.-32052": "{1}",
        "rpc.-32060": "{1}",
        "rpc.-32061": "{1}",
        "rpc.-32070": "{1}",
        "rpc.-32602": "{1}",
        "error.stdinNotUTF8": "standard input is not UTF-8 text",
        "error.stdinTooLong": "standard input holds more than {1} bytes; a message holds at most {2} bytes",
        "error.stdinRead": "cannot read standard input: {1}",
        "error.noPassphrase": "no passphrase given",
        "error.limitRange": "--limit must be between 1 and 1000.",
        "error.since": "--since: '{1}' is not Unix seconds, a UTC date-time or an age (90m, 6h, 2d)",
        "error.notRemoved": "estafetted did not remove contact '{1}'",
        "error.subscriptionRefused": "estafetted refused the subscription",
        "error.closed": "estafetted closed the connection",
        "error.skipped": "skipped a message: {1}",
        "error.qrTooLong": "cannot draw a QR code for this text (too long for a QR code?)",
        "error.wipeNeedsYes": "wipe destroys the keys, the messages and the contacts for good; add --yes to do it",

        // Shared words.
        "kind.direct": "direct",
        "kind.alert": "alert",
        "kind.channel": "channel",
        "inbox.verified": "(verified)",
        "inbox.followed": "(followed)",
        "inbox.notFollowed": "(NOT FOLLOWED)",
        "inbox.unread": "[unread]",
        "time.now": "just now",
        "time.minutes": "{1} min ago",
        "time.hours": "{1} h ago",
        "time.days.one": "{1} day ago",
        "time.days.other": "{1} days ago",
        "unit.d": "d",
        "unit.h": "h",
        "unit.m": "m",
        "unit.s": "s",
        "expiry.help": "Expire after this long, here and in every inbox: 90s, 30m, 2h, 1d (at most 7d).",

        // status
        "status.abstract": "The daemon's health on one screen: uptime, peers, relay links, store, drops, warnings.",
        "status.discussion": "--json prints node.status as the daemon sent it, with every counter.",
        "status.node": "Node:",
        "status.uptime": "Uptime:",
        "status.peers": "Peers:",
        "status.relayLinks": "Relay links:",
        "status.relay": "Relay:",
        "status.store": "Store:",
        "status.traffic": "Traffic:",
        "status.drops": "Drops:",
        "status.warnings": "Warnings:",
        "status.none": "none",
        "status.noRelayLinks": "no relay links",
        "status.unknown": "unknown ({1})",
        "status.trafficLine": "{1} packets in, {2} out",
        "status.moreReasons": "… {1} more reasons (estafette status --json)",
        "status.envelopes.one": "{1} envelope",
        "status.envelopes.other": "{1} envelopes",
        "status.of": "{1} of {2} ({3}%)",
        "status.clockSuspect.ahead": "clock SUSPECT: about {1} ahead of the mesh; most envelopes heard are refused for their time (check the date, NTP, the RTC)",
        "status.clockSuspect.behind": "clock SUSPECT: about {1} behind the mesh; most envelopes heard are refused for their time (check the date, NTP, the RTC)",
        "status.clockOff": "clock off by {1} s against the mesh (check NTP / the RTC)",
        "status.nearQuota": "store near its quota ({1}%): old messages will be dropped",
        "status.noPacket": "no packet received: no usable LAN interface, or multicast is filtered",
        "status.relayFigures.one": "{2}, {3} envelopes, {4} of {5} bytes, {6} evicted, {1} link",
        "status.relayFigures.other": "{2}, {3} envelopes, {4} of {5} bytes, {6} evicted, {1} links",
        "status.on": "on",
        "status.off": "off",

        // id
        "id.abstract": "Show this node's ID (to give to contacts) and its fingerprint (to compare in person).",
        "id.id": "ID:",
        "id.fingerprint": "Fingerprint:",
        "id.linkKey": "Link key:",

        // contacts
        "contacts.abstract": "Manage contacts: local names for IDs.",
        "contacts.discussion": "To be sure that \"bob\" really is Bob, compare safety numbers in person or on a call you trust: `estafette contacts safety-number bob` on your side and `estafette contacts safety-number alice` on Bob's show the same 60 digits. If they match, `estafette contacts verify bob`.",
        "contacts.add.abstract": "Add a contact.",
        "contacts.add.name": "A local name for the contact.",
        "contacts.add.id": "The contact's ID (their `estafette id`) or invite (their `estafette invite`).",
        "contacts.added": "Added contact {1}.",
        "contacts.inviteName": "Name in their invite: {1}",
        "contacts.relayHint": "Relay hint: {1} (to use it: estafette relays add {1} RELAY-ID)",
        "contacts.compare": "Compare safety numbers: {1}",
        "contacts.list.abstract": "List contacts.",
        "contacts.none": "No contacts.",
        "contacts.col.name": "NAME",
        "contacts.col.id": "ID",
        "contacts.col.verified": "VERIFIED",
        "contacts.yes": "yes",
        "contacts.no": "no",
        "contacts.rm.abstract": "Remove a contact.",
        "contacts.nameArg": "The contact's name.",
        "contacts.removed": "Removed contact {1}.",
        "contacts.sn.abstract": "Show the safety number to compare with a contact.",
        "contacts.sn.discussion": "The contact's node shows the same 60 digits for you. Read them aloud to each other; if they match, run `estafette contacts verify NAME`.",
        "contacts.sn.title": "Safety number with {1}:",
        "contacts.sn.verified": "{1} is verified.",
        "contacts.sn.notVerified": "Not verified yet. If {1} sees the same digits: {2}",
        "contacts.verify.abstract": "Mark a contact verified, after comparing safety numbers.",
        "contacts.verified": "Marked {1} verified.",

        // send, alert, follow
        "send.abstract": "Send a direct message to a contact or an ID.",
        "send.discussion": "Without TEXT, the message is read from standard input; one trailing newline is dropped. Prints the message ID.",
        "send.contact": "The recipient: a contact name or an ID.",
        "send.text": "The message. Read from standard input when left out.",
        "send.readingStdin": "reading the message from standard input; end it with Ctrl-D",
        "alert.abstract": "Post a signed public alert to the whole mesh.",
        "alert.discussion": "Prints the message ID.",
        "alert.text": "The alert's text.",
        "follow.abstract": "Follow the alerts of an ID.",
        "follow.id": "The ID whose alerts to follow.",
        "follow.done": "Following {1}.",

        // inbox, requests, watch
        "inbox.abstract": "List received messages and alerts, newest first.",
        "inbox.unreadFlag": "Only unread messages.",
        "inbox.limit": "At most this many messages (1-1000; the daemon's default is 100).",
        "inbox.none": "No messages.",
        "requests.abstract": "List message requests: direct messages from strangers, kept apart.",
        "requests.discussion": "With `accept_from = \"contacts\"` in the [messages] section of the config, direct messages from senders who are not contacts wait here instead of the inbox, without a notification; the sender is never told. Adding the sender as a contact moves them to the inbox.",
        "requests.none": "No requests.",
        "sent.abstract": "List the direct messages you sent and whether they were delivered.",
        "sent.discussion": "\"delivered\" means the recipient's node put the message in their inbox and sent back a delivery receipt; \"sent\" means no receipt came yet (their node has not received it, does not send receipts, or holds it among message requests).",
        "sent.none": "No sent messages.",
        "sent.col.sent": "SENT",
        "sent.col.to": "TO",
        "sent.col.status": "STATUS",
        "sent.status.sent": "sent",
        "sent.status.delivered": "delivered {1}",
        "watch.abstract": "Print messages and alerts as they arrive, until the daemon closes the connection.",
        "watch.discussion": "With --json, prints each message as one line of JSON, flushed at once.",

        // peers
        "peers.abstract": "List the peers the daemon currently knows.",
        "peers.none": "No peers.",
        "peers.col.session": "SESSION",
        "peers.col.address": "ADDRESS",
        "peers.col.lastSeen": "LAST SEEN",

        // relays, export, import
        "relays.abstract": "List the relays this node links to; add or remove them.",
        "relays.discussion": "A relay is given by its address (host:port) and its ID (es1…, from `estafette id` on the relay), which pins its key: a relay that answers with another key is refused. Relays from the config file are listed too; they are changed in the file.",
        "relays.list.abstract": "List relays and their links.",
        "relays.none": "No relays.",
        "relays.col.address": "ADDRESS",
        "relays.col.id": "ID",
        "relays.col.state": "STATE",
        "relays.col.synced": "LAST SYNC",
        "relays.col.sent": "SENT",
        "relays.col.received": "RECEIVED",
        "relays.col.source": "SOURCE",
        "relays.never": "never",
        "relays.add.abstract": "Link to a relay (kept across restarts).",
        "relays.address": "The relay's address, host:port.",
        "relays.id": "The relay's ID (es1…), as its `estafette id` shows it.",
        "relays.added": "Added relay {1}.",
        "relays.rm.abstract": "Stop linking to a relay added with `relays add`.",
        "relays.removed": "Removed relay {1}.",
        "export.abstract": "Write the stored envelopes to a bundle file, to carry to another island.",
        "export.discussion": "The daemon writes the file (mode 0600, owned by the daemon's user), atomically: the file appears complete or not at all. `estafette import FILE` on another node reads it. Envelopes stay sealed: a bundle holds nothing a relay could not see.",
        "export.file": "The bundle file to write (replaced if it exists).",
        "export.since": "Only envelopes received since TIME: Unix seconds, 2026-11-30T12:00:00Z, or an age such as 90m, 6h, 2d.",
        "export.done.one": "Exported {1} envelope ({2} bytes) to {3}.",
        "export.done.other": "Exported {1} envelopes ({2} bytes) to {3}.",
        "import.abstract": "Read a bundle file through the same checks as envelopes from the network.",
        "import.discussion": "A truncated, damaged or altered bundle is refused whole. Envelopes already held are counted as duplicates: importing a bundle twice adds nothing.",
        "import.file": "The bundle file to read (the daemon's user must be able to read it).",
        "import.done": "Imported {1}, already held {2}, refused {3}.",

        // channel
        "channel.abstract": "Passphrase channels: join, leave, list, post.",
        "channel.discussion": "Everyone who joins a channel with the same name and passphrase reads its posts; nobody else can. A wrong passphrase is not refused: it joins another, empty channel, which looks exactly the same. Posts show their author's ID to every member, and are signed: a member can prove who wrote one.",
        "channel.list.abstract": "List the joined channels.",
        "channel.none": "No channels joined.",
        "channel.col.name": "CHANNEL",
        "channel.col.joined": "JOINED",
        "channel.join.abstract": "Join a channel; the passphrase is read from the terminal (or one line of standard input).",
        "channel.join.name": "The channel's name, exactly as the other members spell it.",
        "channel.prompt": "Passphrase for {1}: ",
        "channel.joined": "Joined channel {1}.",
        "channel.leave.abstract": "Leave a channel (its posts are still carried).",
        "channel.name": "The channel's name.",
        "channel.left": "Left channel {1}.",
        "channel.post.abstract": "Post to a joined channel.",
        "channel.post.text": "The text to post.",
        "channel.posted": "Posted to {1} ({2}).",

        // block
        "block.abstract": "Hide everything from an ID: messages, channel posts and alerts.",
        "block.discussion": "The node still carries that ID's envelopes for others; the sender is never told.",
        "block.id": "The ID to block.",
        "block.done": "Blocked {1}.",
        "unblock.abstract": "Show messages from a blocked ID again.",
        "unblock.id": "The ID to unblock.",
        "unblock.done": "Unblocked {1}.",

        // wipe
        "wipe.abstract": "Panic wipe: destroy the keys, messages and contacts for good, and stop the daemon.",
        "wipe.discussion": "The data key and the identity key are overwritten and deleted first (crypto-erase), then everything else in the data directory; the daemon then stops with exit status 10. There is no undo. Without --yes nothing is done.",
        "wipe.yes": "Really wipe (required).",
        "wipe.done": "Wiped: {1} files destroyed in {2} ms; the daemon has stopped.",

        // invite
        "invite.abstract": "Print an invite to add you as a contact: one line and a QR code.",
        "invite.discussion": "The other person scans the QR code (or copies the line) and runs `estafette contacts add NAME 'estafette:invite?…'`. Then compare safety numbers: `estafette contacts safety-number NAME`. The invite holds your ID, the name you give with --name, and any relay hints; it is not secret, but whoever passes it on could swap it, which the safety number reveals.",
        "invite.name": "The name to suggest to the other person (1-64 characters).",
        "invite.relay": "A relay hint to include, host:port (repeatable, at most 4).",
        "invite.light": "Draw the QR code for a terminal with a light background (dark text on white).",
        "invite.noQR": "Print only the invite line, no QR code.",
    ])
}
