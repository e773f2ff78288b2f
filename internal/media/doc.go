// Package media keeps the uploaded files of a community's resource library
// (documents, images, slides) and serves them back safely.
//
// A [Store] writes each file under its data directory by content hash only,
// as dir/<first two hex digits>/<sha256 hex><ext>. The uploader's file name
// never reaches the filesystem; it only becomes a display name, cleaned of
// paths, control characters and leading dots (SECURITY.md row 6, CON-03).
//
// The type of a file is decided by its bytes, never by the client's claim.
// Only a fixed allow-list is kept: PDF, PNG, JPEG, GIF, WebP, UTF-8 plain
// text (.txt, .md, .csv), the office formats docx, xlsx, pptx, odt, ods and
// odp, EPUB, and other ZIP archives. Everything else, in particular HTML,
// SVG, XML, scripts and executables, is refused with [ErrType], as is a file
// whose name claims an image while its bytes are something else (CON-04).
// Uploads are cut off at the store's size limit with [ErrTooLarge], leaving
// nothing on disk (CON-05).
//
// [Store.Serve] answers with the sniffed type, nosniff, a sandboxing
// Content-Security-Policy and Content-Disposition: attachment for everything
// except images and PDF.
//
// The package knows nothing about communities, storage rows or
// ActivityStreams, and it keeps no state outside the [Store] value.
package media
