// Page checksums of the state machine's database files: the last 8 bytes
// of every page hold XXH3-64 of the rest, so that a page the disk changed
// behind SQLite's back (a flipped bit, a misdirected write) is detected the
// moment it is read, instead of being served or built upon.
//
// SQLite leaves room for it: a database created with 8 "reserved bytes"
// per page (SQLITE_FCNTL_RESERVE_BYTES, recorded in byte 20 of the file's
// header) never puts anything of its own there. SqliteVfs seals every page
// it writes to such a database file and checks every whole page it reads
// from one; a database whose header says otherwise (created before, or
// restored from an image made without the room) is read and written
// unchecked, as SQLite's own cksumvfs extension does.
//
// WAL files are not sealed: SQLite checks its own chained frame checksums
// whenever it recovers a WAL, and a checkpoint writes the frames' pages
// into the database file, where they are sealed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace reef::statemachine {

inline constexpr int kPageChecksumBytes = 8;

// True when `data` (read from or written to offset 0 of a database file)
// is a database header that reserves exactly kPageChecksumBytes per page;
// nullopt-like false for anything else, including too few bytes.
bool header_has_page_checksums(const char* data, size_t size);
// False when `data` (of `size` bytes at `offset`) is not one whole page:
// checksums cover whole pages only.
bool is_whole_page(size_t size, int64_t offset);
// Writes the checksum of page[0, size - 8) into its last 8 bytes.
void seal_page(char* page, size_t size);
// Whether the page's last 8 bytes hold the checksum of the rest.
bool page_is_intact(const char* page, size_t size);

}  // namespace reef::statemachine
