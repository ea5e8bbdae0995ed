// HugeBuffer: a zeroed array of floats in anonymous pages of its own, asked for as transparent huge pages. For the
// large buffers that decode reads through again and again (the KV caches): on 4 KiB pages a cached row of
// attention crossed a page every ~2 rows, each a TLB miss and a stop for the hardware prefetcher.
#pragma once

#include <cstddef>

namespace seek {

class HugeBuffer {
 public:
  HugeBuffer() = default;
  explicit HugeBuffer(size_t n_floats);
  ~HugeBuffer();
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  HugeBuffer(HugeBuffer&& o) noexcept;
  HugeBuffer& operator=(HugeBuffer&& o) noexcept;

  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  float* data_ = nullptr;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

}  // namespace seek
