// Strict conversions between numbers and the decimal text values are stored as.
//
// Values are byte strings; INC/DEC and INCF/DECF read and write them as plain
// decimal text, without a trailing newline (a flaw of the original Memento).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace memento {

// Parses a whole string as a signed 64-bit decimal integer, Redis-style: optional '-',
// digits, no '+', no spaces, no leading zeros ("0" itself is fine). False on anything
// else, including overflow.
bool ParseInt64(std::string_view text, int64_t* value);

// Parses a whole string as a finite double ("1.5", "-3", "2e10", ".5"). False for
// empty strings, trailing garbage, spaces, inf and nan.
bool ParseFiniteDouble(std::string_view text, double* value);

// Decimal text of `value`.
std::string FormatInt64(int64_t value);

// Shortest text that reads back as exactly `value`, in plain positional notation
// (no exponent, as Redis's INCRBYFLOAT prints): 3.0 -> "3", 0.1 -> "0.1",
// 1e20 -> "100000000000000000000". REQUIRES: value is finite.
std::string FormatDouble(double value);

}  // namespace memento
