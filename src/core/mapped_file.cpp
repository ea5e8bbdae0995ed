// MappedFile: mmap(2) of a whole file, read-only and shared so the page cache backs the weights.
#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace seek {

Result<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return err("%s: cannot open: %s", path.c_str(), std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return err("%s: cannot stat: %s", path.c_str(), std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return err("%s: not a regular file", path.c_str());
  }
  MappedFile f;
  f.path_ = path;
  f.size_ = size_t(st.st_size);
  if (f.size_ > 0) {
    void* p = mmap(nullptr, f.size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      return err("%s: cannot map %zu bytes: %s", path.c_str(), f.size_, std::strerror(e));
    }
    f.data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return f;
}

namespace {

// Whether [p, p + n) is a non-empty range inside the mapping [map, map + map_size) (no pointer arithmetic past it).
bool inside(const void* p, size_t n, const void* map, size_t map_size) {
  const uintptr_t begin = uintptr_t(p), first = uintptr_t(map);
  return map != nullptr && n > 0 && begin >= first && begin - first <= map_size && n <= map_size - (begin - first);
}

}  // namespace

void populate_pages(const void* p, size_t n, const void* map, size_t map_size) {
#ifdef MADV_POPULATE_READ
  if (!inside(p, n, map, map_size)) return;
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE)), begin = uintptr_t(p), first = begin & ~(page - 1);
  madvise(reinterpret_cast<void*>(first), begin + n - first, MADV_POPULATE_READ);
#else
  (void)p, (void)n, (void)map, (void)map_size;
#endif
}

void release_pages(const void* p, size_t n, const void* map, size_t map_size) {
  if (!inside(p, n, map, map_size)) return;
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (uintptr_t(p) + page - 1) & ~(page - 1), end = (uintptr_t(p) + n) & ~(page - 1);
  if (begin < end) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), path_(std::move(o.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) munmap(const_cast<uint8_t*>(data_), size_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    path_ = std::move(o.path_);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace seek
