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

void populate_pages(const void* p, size_t n, const void* map_begin, size_t map_size) {
#ifdef MADV_POPULATE_READ
  const uintptr_t begin = uintptr_t(p), map = uintptr_t(map_begin);
  if (map_begin == nullptr || n == 0 || begin < map || begin - map > map_size || n > map_size - (begin - map)) return;
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE)), first = begin & ~(page - 1);
  madvise(reinterpret_cast<void*>(first), begin + n - first, MADV_POPULATE_READ);
#else
  (void)p, (void)n, (void)map_begin, (void)map_size;
#endif
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
