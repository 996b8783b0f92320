// Reply texts of the command layer, as static constants so that an error path never
// builds a string (dragonfly's facade/error.h is the model).
//
// Each error starts with its code, as Redis's do. Where Redis has the same error the
// text is Redis's, byte for byte, because client libraries and tests match on it;
// docs/protocol.md lists them. None may contain CR or LF (ReplyBuilder::Error).
#pragma once

namespace memento::daemon {

// Argument errors.
inline constexpr char kSyntaxErr[] = "ERR syntax error";
inline constexpr char kNotIntegerErr[] = "ERR value is not an integer or out of range";
inline constexpr char kNotFloatErr[] = "ERR value is not a valid float";
inline constexpr char kOffsetErr[] = "ERR offset is out of range";
inline constexpr char kInvalidCursorErr[] = "ERR invalid cursor";
inline constexpr char kDbIndexErr[] = "ERR DB index is out of range";
inline constexpr char kIntRangeErr[] =
    "ERR value is out of range, value must between -2147483648 and 2147483647";

// Arithmetic.
inline constexpr char kOverflowErr[] = "ERR increment or decrement would overflow";
inline constexpr char kDecrementOverflowErr[] = "ERR decrement would overflow";  // DECRBY
inline constexpr char kNanOrInfErr[] = "ERR increment would produce NaN or Infinity";

// Values and keys.
inline constexpr char kStringTooLongErr[] =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
inline constexpr char kNoSuchKeyErr[] = "ERR no such key";

// Expiry options (EXPIRE ... NX|XX|GT|LT).
inline constexpr char kExpireNxConflictErr[] =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
inline constexpr char kExpireGtLtConflictErr[] =
    "ERR GT and LT options at the same time are not compatible";

// Transactions (Redis 7.0's texts, but the Memento-only ones at the end).
inline constexpr char kMultiNestedErr[] = "ERR MULTI calls can not be nested";
inline constexpr char kExecWithoutMultiErr[] = "ERR EXEC without MULTI";
inline constexpr char kDiscardWithoutMultiErr[] = "ERR DISCARD without MULTI";
inline constexpr char kWatchInMultiErr[] = "ERR WATCH inside MULTI is not allowed";
inline constexpr char kExecAbortErr[] =
    "EXECABORT Transaction discarded because of previous errors.";
inline constexpr char kExecAbortBecauseErr[] = "EXECABORT Transaction discarded because of: ";
inline constexpr char kNotInTransactionErr[] = "ERR Command not allowed inside a transaction";
inline constexpr char kMonitorInTransactionErr[] =
    "ERR MONITOR isn't allowed for DENY BLOCKING client";
inline constexpr char kCrossSlotErr[] = "CROSSSLOT Keys in request don't hash to the same slot";
inline constexpr char kTransactionDialectErr[] =
    "ERR a Redis inline command cannot be queued in a text-protocol transaction";
inline constexpr char kClientInTransactionErr[] =
    "ERR CLIENT LIST and CLIENT KILL cannot run inside a transaction";
inline constexpr char kWatchRemoteKeyErr[] =
    "ERR WATCH of a key served by another node: run the transaction on the node that owns "
    "the key's slot";
inline constexpr char kTextTransactionShapeErr[] =
    "ERR only commands replying one line can be queued in a text-protocol transaction";

// Authentication.
inline constexpr char kNoAuthErr[] = "NOAUTH Authentication required.";
inline constexpr char kWrongPassErr[] =
    "WRONGPASS invalid username-password pair or user is disabled.";
inline constexpr char kNoPasswordConfiguredErr[] =
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?";
inline constexpr char kHelloNoAuthErr[] =
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
    "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
    "select the RESP protocol version at the same time";

// HELLO and CLIENT.
inline constexpr char kNoProtoErr[] = "NOPROTO unsupported protocol version";
inline constexpr char kProtoNotIntegerErr[] =
    "ERR Protocol version is not an integer or out of range";
inline constexpr char kClientNameErr[] =
    "ERR Client names cannot contain spaces, newlines or special characters.";
// CLIENT KILL / CLIENT LIST (Redis 7.0's texts).
inline constexpr char kNoSuchClientErr[] = "ERR No such client";
inline constexpr char kClientIdRangeErr[] = "ERR client-id should be greater than 0";
inline constexpr char kInvalidClientIdErr[] = "ERR Invalid client ID";
// A MONITOR connection sending a command that reads or writes keys (Redis 7 treats
// monitors as replicas).
inline constexpr char kMonitorKeyspaceErr[] = "ERR Replica can't interact with the keyspace";
// SHUTDOWN.
inline constexpr char kNoShutdownErr[] = "ERR No shutdown in progress.";
inline constexpr char kShutdownFailedErr[] = "ERR Errors trying to SHUTDOWN. Check logs.";

// Persistence (not in this build yet).
inline constexpr char kNoPersistenceErr[] = "ERR persistence is not enabled in this process";
// Followed by the log's error message.
inline constexpr char kWalFailedErr[] =
    "MISCONF Errors writing to the write-ahead log; writes are refused until restart: ";
inline constexpr char kBgSaveInProgressErr[] = "ERR Background save already in progress";

// Start-up: the data set is still being recovered (Commands::SetLoading). The RESP
// text is Redis's, byte for byte (clients such as redis-py retry on LOADING); the text
// protocol's says what is going on in Memento's terms.
inline constexpr char kLoadingErr[] = "LOADING Redis is loading the dataset in memory";
inline constexpr char kLoadingText[] =
    "LOADING memento is loading its data (snapshot, then write-ahead log) into memory; "
    "retry in a moment";

// The text protocol's reply to an unknown command (kept from the original Memento).
inline constexpr char kUnknownCommandText[] = "(Unknown command)";

}  // namespace memento::daemon
