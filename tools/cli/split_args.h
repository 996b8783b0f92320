// SplitArgs: cuts a command line typed at memento-cli's prompt (or piped to it) into
// words, with redis-cli's quoting rules (docs/tools/cli.md#quoting):
//   - words are separated by spaces and tabs;
//   - "double quotes" keep spaces and understand \" \\ \n \r \t \b \a and \xHH (two
//     hex digits: any byte, \x00 included);
//   - 'single quotes' keep everything as it is but \' (a quote);
//   - a closing quote must be followed by a space, a tab or the end of the line;
//   - outside quotes, a backslash is an ordinary byte.
// Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace memento::cli {

// The words of `line` (none for a blank line). InvalidArgument, naming the column,
// for an unbalanced quote or a closing quote followed by something else.
Result<std::vector<std::string>> SplitArgs(std::string_view line);

}  // namespace memento::cli
