// Package communitytest helps test the rules of internal/community without
// HTTP or federation: a Renderer that records what a community asked to
// send and returns plain activities, and a reader of the deliveries queued
// in the store. Only tests import it.
package communitytest
