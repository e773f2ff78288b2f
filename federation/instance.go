package federation

import (
	"net/http"

	"github.com/go-fed/activity/streams"
)

// InstanceActor serves the instance's Application actor, whose key signs
// the fetches this instance makes.
func (h *Handler) InstanceActor() http.Handler {
	return h.serve(func(w http.ResponseWriter, r *http.Request) error {
		in, err := h.community.Instance(r.Context())
		if err != nil {
			return err
		}
		a := streams.NewActivityStreamsApplication()
		actor := h.iris.InstanceActor()
		id := streams.NewJSONLDIdProperty()
		id.Set(actor)
		a.SetJSONLDId(id)
		pu := streams.NewActivityStreamsPreferredUsernameProperty()
		pu.SetXMLSchemaString(InstanceActorName)
		a.SetActivityStreamsPreferredUsername(pu)
		name := streams.NewActivityStreamsNameProperty()
		name.AppendXMLSchemaString("Coppice at " + h.iris.Host())
		a.SetActivityStreamsName(name)
		inbox := streams.NewActivityStreamsInboxProperty()
		inbox.SetIRI(h.iris.SharedInbox())
		a.SetActivityStreamsInbox(inbox)
		outbox := streams.NewActivityStreamsOutboxProperty()
		outbox.SetIRI(h.iris.at("/actor/outbox"))
		a.SetActivityStreamsOutbox(outbox)
		u := streams.NewActivityStreamsUrlProperty()
		u.AppendIRI(h.iris.Base())
		a.SetActivityStreamsUrl(u)
		a.SetW3IDSecurityV1PublicKey(publicKeyProperty(h.iris.InstanceKey(), actor, in.PublicKeyPEM))
		setExt(a, termEndpoints, map[string]any{termSharedInbox: h.iris.SharedInbox().String()})
		setExt(a, termManuallyApproves, true)
		return writeAS(w, r, a)
	})
}
