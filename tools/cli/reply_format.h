// FormatReply: a reply as memento-cli prints it, the way redis-cli prints one on a
// terminal (docs/tools/cli.md#replies):
//   status          OK
//   error           (error) ERR unknown command ...
//   integer         (integer) 5
//   bulk            "value"  (quoted; \n \r \t \a \b \" \\ escaped, other bytes
//                            outside 0x20-0x7e as \xHH)
//   nil, nil array  (nil)
//   array           1) "a"       nested arrays indented under their number,
//                   2) "b"       numbers right-aligned;  (empty array) when empty
//   text protocol   the lines as the daemon sent them
//   none            nothing (text QUIT/EXIT)
// Every line ends with "\n".
//
// FormatReplyRaw: the same reply as redis-cli prints it when stdout is not a terminal
// (its --raw form), for scripts: `v=$(memento-cli GET k)` gets the bytes stored.
//   status, bulk    the bytes as they are (no quotes, no escapes)
//   error           the text, then an extra "\n" (redis-cli's blank line after it)
//   integer         5
//   nil, nil array  nothing (an empty line)
//   array           each element in this form, one per line; nested arrays flattened
//   text protocol   the lines as the daemon sent them
//   none            nothing
// followed by one "\n" (except none). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "tools/cli/reply.h"

namespace memento::cli {

std::string FormatReply(const client::Reply& reply);
std::string FormatReplyRaw(const client::Reply& reply);

// "value" with redis-cli's escapes (the bulk form above).
std::string QuoteBytes(std::string_view bytes);

}  // namespace memento::cli
