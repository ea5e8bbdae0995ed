// A read-only memory-mapped file. Weights are used in place from the mapping, never copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/result.h"

namespace seek {

// Maps the pages of [p, p + n) now (MADV_POPULATE_READ, Linux 5.14; before it nothing happens) when they lie
// inside the mapping [map, map + map_size), so that later reads do not fault them in one by one.
void populate_pages(const void* p, size_t n, const void* map, size_t map_size);
// Hands back the whole pages of [p, p + n) when they lie inside the (read-only, shared) file mapping [map, map +
// map_size): they are read again from the file if touched later.
void release_pages(const void* p, size_t n, const void* map, size_t map_size);

class MappedFile {
 public:
  static Result<MappedFile> open(const std::string& path);
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // populate_pages within this mapping.
  void populate(const void* p, size_t n) const { populate_pages(p, n, data_, size_); }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace seek
