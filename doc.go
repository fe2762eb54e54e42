// Package parley holds the domain of the parley chat service: the types
// (rooms, logging configurations, chat tokens, access keys, events), the
// error model, and the interfaces that the storage and bus implementations
// satisfy. It imports only the standard library; everything that talks to
// the outside world lives in a subpackage named after what it adapts.
//
// parley speaks the Amazon IVS Chat API and the chat part of the Amazon
// Chime API on the wire, so that unchanged AWS clients work against it.
package parley
