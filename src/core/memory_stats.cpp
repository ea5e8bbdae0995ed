// Reads VmRSS / VmHWM from /proc/self/status and MemAvailable from /proc/meminfo.
#include "core/memory_stats.h"

#include <cstdio>
#include <cstring>

namespace seek {

namespace {

int64_t status_kib(const char* key, const char* path = "/proc/self/status") {
  std::FILE* f = std::fopen(path, "r");
  if (!f) return -1;
  char line[256];
  int64_t kib = -1;
  const size_t n = std::strlen(key);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, key, n) == 0 && line[n] == ':') {
      long long v = 0;
      if (std::sscanf(line + n + 1, "%lld", &v) == 1) kib = v;
      break;
    }
  }
  std::fclose(f);
  return kib;
}

}  // namespace

int64_t resident_bytes() {
  const int64_t k = status_kib("VmRSS");
  return k < 0 ? -1 : k * 1024;
}

int64_t peak_resident_bytes() {
  const int64_t k = status_kib("VmHWM");
  return k < 0 ? -1 : k * 1024;
}

int64_t available_memory_bytes() {
  const int64_t k = status_kib("MemAvailable", "/proc/meminfo");
  return k < 0 ? -1 : k * 1024;
}

}  // namespace seek
