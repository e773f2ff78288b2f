// Package community holds the rules of a community of practice: who may
// create what, membership and roles, posting policy, curation, recognition,
// and deciding what gets announced to whom.
//
// It is the one door to state changes for both the federation and the web
// packages. It does not import net/http, database/sql or go-fed: it calls
// storage and hands back plain values.
package community
