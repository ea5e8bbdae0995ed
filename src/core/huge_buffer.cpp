// HugeBuffer: mmap, then madvise(MADV_HUGEPAGE) before the first touch; anonymous pages come zeroed.
#include "core/huge_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <new>
#include <utility>

namespace seek {

namespace {

// Faults the pages of [mem, mem + bytes) in; false when the memory is not there.
bool fault_in(void* mem, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  if (madvise(mem, bytes, MADV_POPULATE_WRITE) == 0) return true;
  if (errno != EINVAL) return false;  // EINVAL: a kernel before 5.14, whose pages are touched one by one instead
#endif
  for (size_t i = 0; i < bytes; i += 4096) static_cast<volatile char*>(mem)[i] = 0;
  return true;
}

}  // namespace

HugeBuffer::HugeBuffer(size_t count, size_t elem_size, Fault fault) {
  if (count == 0 || elem_size == 0) return;
  if (count > SIZE_MAX / elem_size) throw std::bad_alloc();
  const size_t bytes = count * elem_size;
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw std::bad_alloc();
  madvise(mem, bytes, MADV_HUGEPAGE);
  if (fault == Fault::Now && !fault_in(mem, bytes)) {
    munmap(mem, bytes);
    throw std::bad_alloc();
  }
  data_ = static_cast<uint8_t*>(mem);
  bytes_ = bytes;
}

HugeBuffer::~HugeBuffer() {
  if (data_) munmap(data_, bytes_);
}

HugeBuffer::HugeBuffer(HugeBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

HugeBuffer& HugeBuffer::operator=(HugeBuffer&& o) noexcept {
  if (this != &o) {
    if (data_) munmap(data_, bytes_);
    data_ = std::exchange(o.data_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

}  // namespace seek
