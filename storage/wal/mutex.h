// The WAL's lock types: the shared annotated wrappers of common/mutex.h.
#pragma once

#include "common/mutex.h"

namespace memento::wal::internal {
using ::memento::CondVar;
using ::memento::Mutex;
using ::memento::MutexLock;
}  // namespace memento::wal::internal
