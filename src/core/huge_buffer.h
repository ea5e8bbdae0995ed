// HugeBuffer: zeroed bytes in anonymous pages of their own, asked for as transparent huge pages (the kernel's THP
// setting "madvise" gives them only to ranges that ask). For the large buffers that are streamed through again and
// again: the repacked weights, and the KV caches (on 4 KiB pages a cached row of attention crossed a page every ~2
// rows, each a TLB miss and a stop for the hardware prefetcher).
#pragma once

#include <cstddef>
#include <cstdint>

namespace seek {

class HugeBuffer {
 public:
  // Now: every page faulted in when made (a page first touched by decode cost that step a fault and, for a huge
  // page, a 2 MiB clear); out of memory is then std::bad_alloc here, not a fault later. OnFirstWrite: left to the
  // writer (the repacking threads fill their parts in parallel).
  enum class Fault { Now, OnFirstWrite };

  HugeBuffer() = default;
  // count x elem_size bytes; std::bad_alloc when they cannot be had (or the product overflows).
  HugeBuffer(size_t count, size_t elem_size, Fault fault);
  ~HugeBuffer();
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  HugeBuffer(HugeBuffer&& o) noexcept;
  HugeBuffer& operator=(HugeBuffer&& o) noexcept;

  uint8_t* data() { return data_; }
  float* floats() { return reinterpret_cast<float*>(data_); }
  size_t bytes() const { return bytes_; }

 private:
  uint8_t* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace seek
