#include "statemachine/sqlite_lock_table.h"

namespace reef::statemachine {

bool SqliteLockTable::lock(Holder& holder, Level level) {
  std::lock_guard<std::mutex> guard(mu_);
  if (holder.level >= level) return true;
  PathLocks& locks = paths_[holder.path];
  if (level == kShared) {
    if (locks.pending != nullptr || locks.exclusive != nullptr) return false;
    ++locks.shared;
    holder.level = kShared;
    return true;
  }
  if (level == kReserved) {
    if (locks.reserved != nullptr || locks.pending != nullptr || locks.exclusive != nullptr) return false;
    locks.reserved = &holder;
    holder.level = kReserved;
    return true;
  }
  // kExclusive (SQLite never asks for kPending itself): PENDING first, so
  // that no new reader arrives while the present ones finish.
  if (locks.pending != nullptr && locks.pending != &holder) return false;
  locks.pending = &holder;
  holder.level = kPending;
  if (locks.shared > 1) return false;
  locks.exclusive = &holder;
  holder.level = kExclusive;
  return true;
}

void SqliteLockTable::unlock(Holder& holder, Level level) {
  std::lock_guard<std::mutex> guard(mu_);
  if (holder.level <= level) return;
  auto it = paths_.find(holder.path);
  if (it == paths_.end()) return;
  PathLocks& locks = it->second;
  if (locks.reserved == &holder) locks.reserved = nullptr;
  if (locks.pending == &holder) locks.pending = nullptr;
  if (locks.exclusive == &holder) locks.exclusive = nullptr;
  if (level == kNone) --locks.shared;
  holder.level = level;
  if (locks.shared == 0) paths_.erase(it);
}

bool SqliteLockTable::reserved(const Holder& holder) {
  std::lock_guard<std::mutex> guard(mu_);
  auto it = paths_.find(holder.path);
  if (it == paths_.end()) return false;
  const PathLocks& locks = it->second;
  return locks.reserved != nullptr || locks.pending != nullptr || locks.exclusive != nullptr;
}

}  // namespace reef::statemachine
