// HugeBuffer: mmap, then madvise(MADV_HUGEPAGE) before the first touch (the kernel's THP setting "madvise" gives
// huge pages only to ranges that ask; anonymous pages come zeroed).
#include "core/huge_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <new>
#include <utility>

namespace seek {

HugeBuffer::HugeBuffer(size_t n_floats) : size_(n_floats) {
  if (n_floats == 0) return;
  if (n_floats > SIZE_MAX / sizeof(float)) throw std::bad_alloc();
  bytes_ = n_floats * sizeof(float);
  void* mem = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw std::bad_alloc();
  madvise(mem, bytes_, MADV_HUGEPAGE);
  data_ = static_cast<float*>(mem);
  // Faulted in now, as the zero-filled vector it replaces was: a page first touched by decode cost that step a
  // fault (and, for a huge page, a 2 MiB clear).
#ifdef MADV_POPULATE_WRITE
  if (madvise(mem, bytes_, MADV_POPULATE_WRITE) == 0) return;
  if (errno != EINVAL) {  // out of memory: fail here, not in a page fault later (EINVAL: a kernel before 5.14)
    munmap(mem, bytes_);
    data_ = nullptr;
    throw std::bad_alloc();
  }
#endif
  for (size_t i = 0; i < bytes_; i += 4096) static_cast<volatile char*>(mem)[i] = 0;
}

HugeBuffer::~HugeBuffer() {
  if (data_) munmap(data_, bytes_);
}

HugeBuffer::HugeBuffer(HugeBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), bytes_(std::exchange(o.bytes_, 0)) {}

HugeBuffer& HugeBuffer::operator=(HugeBuffer&& o) noexcept {
  if (this != &o) {
    if (data_) munmap(data_, bytes_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

}  // namespace seek
