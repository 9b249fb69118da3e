#include "statemachine/sqlite_shared_memory.h"

#include <atomic>
#include <cstring>

namespace reef::statemachine {

int SqliteSharedMemory::map(int index, int region_bytes, bool extend, void volatile** out) {
  std::lock_guard<std::mutex> guard(mu_);
  *out = nullptr;
  if (index < 0 || region_bytes <= 0) return SQLITE_IOERR_SHMMAP;
  if (region_bytes_ == 0) region_bytes_ = region_bytes;
  if (region_bytes != region_bytes_) return SQLITE_IOERR_SHMSIZE;
  const size_t wanted = static_cast<size_t>(index) + 1;
  if (regions_.size() < wanted) {
    if (!extend) return SQLITE_OK;
    while (regions_.size() < wanted) {
      // Zeroed: SQLite reads a zero header as "rebuild the index from the WAL".
      regions_.push_back(std::make_unique<char[]>(static_cast<size_t>(region_bytes)));
      std::memset(regions_.back().get(), 0, static_cast<size_t>(region_bytes));
    }
  }
  *out = regions_[static_cast<size_t>(index)].get();
  return SQLITE_OK;
}

int SqliteSharedMemory::lock(Handle& handle, int offset, int count, int flags) {
  if (offset < 0 || count < 1 || offset + count > SQLITE_SHM_NLOCK) return SQLITE_IOERR_SHMLOCK;
  const uint16_t mask = static_cast<uint16_t>(((1u << count) - 1u) << offset);
  std::lock_guard<std::mutex> guard(mu_);
  if ((flags & SQLITE_SHM_UNLOCK) != 0) {
    for (int slot = offset; slot < offset + count; ++slot) {
      const uint16_t bit = static_cast<uint16_t>(1u << slot);
      if ((handle.shared_mask & bit) != 0) --shared_[slot];
      if ((handle.exclusive_mask & bit) != 0) exclusive_[slot] = false;
    }
    handle.shared_mask &= static_cast<uint16_t>(~mask);
    handle.exclusive_mask &= static_cast<uint16_t>(~mask);
    return SQLITE_OK;
  }
  if ((flags & SQLITE_SHM_SHARED) != 0) {
    // SQLite asks for one slot at a time in shared mode.
    for (int slot = offset; slot < offset + count; ++slot) {
      const uint16_t bit = static_cast<uint16_t>(1u << slot);
      if ((handle.shared_mask & bit) != 0) continue;
      if (exclusive_[slot] && (handle.exclusive_mask & bit) == 0) return SQLITE_BUSY;
    }
    for (int slot = offset; slot < offset + count; ++slot) {
      const uint16_t bit = static_cast<uint16_t>(1u << slot);
      if ((handle.shared_mask & bit) != 0) continue;
      ++shared_[slot];
      handle.shared_mask |= bit;
    }
    return SQLITE_OK;
  }
  for (int slot = offset; slot < offset + count; ++slot) {
    const uint16_t bit = static_cast<uint16_t>(1u << slot);
    const int others_shared = shared_[slot] - ((handle.shared_mask & bit) != 0 ? 1 : 0);
    if (others_shared > 0) return SQLITE_BUSY;
    if (exclusive_[slot] && (handle.exclusive_mask & bit) == 0) return SQLITE_BUSY;
  }
  for (int slot = offset; slot < offset + count; ++slot) exclusive_[slot] = true;
  handle.exclusive_mask |= mask;
  return SQLITE_OK;
}

void SqliteSharedMemory::barrier() {
  std::lock_guard<std::mutex> guard(mu_);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

void SqliteSharedMemoryTable::attach(SqliteSharedMemory::Handle& handle, const std::string& path) {
  if (handle.shm != nullptr) return;
  std::lock_guard<std::mutex> guard(mu_);
  std::shared_ptr<SqliteSharedMemory> shm = by_path_[path].lock();
  if (shm == nullptr) {
    shm = std::make_shared<SqliteSharedMemory>();
    by_path_[path] = shm;
  }
  handle.shm = std::move(shm);
}

void SqliteSharedMemoryTable::detach(SqliteSharedMemory::Handle& handle, const std::string& path) {
  if (handle.shm == nullptr) return;
  handle.shm->lock(handle, 0, SQLITE_SHM_NLOCK, SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE);
  std::lock_guard<std::mutex> guard(mu_);
  handle.shm.reset();
  auto it = by_path_.find(path);
  if (it != by_path_.end() && it->second.expired()) by_path_.erase(it);
}

}  // namespace reef::statemachine
