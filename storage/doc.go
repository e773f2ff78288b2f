// Package storage owns every SQL statement of Coppice: the SQLite
// connections, the numbered migrations embedded in the binary, and the row
// types (Community, Actor, Follow, Delivery, …).
//
// It knows nothing about HTTP or ActivityStreams. Other packages call the
// methods of Store; none of them imports database/sql.
//
// SQLite runs in WAL mode with synchronous=NORMAL: a committed transaction
// survives a crash of the process (kill -9) but the last commits may be lost
// if the operating system itself crashes or the machine loses power.
package storage
