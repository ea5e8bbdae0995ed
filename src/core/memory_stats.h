// The process's resident memory, as Linux reports it in /proc/self/status (for --json reports and the memory test).
#pragma once

#include <cstdint>

namespace seek {

// VmRSS (now) and VmHWM (the peak) in bytes; -1 where /proc is not readable.
int64_t resident_bytes();
int64_t peak_resident_bytes();
// MemAvailable of /proc/meminfo in bytes (what can be allocated without swapping, reclaimable page cache
// included); -1 where unknown.
int64_t available_memory_bytes();

}  // namespace seek
