// The process's resident memory, as Linux reports it in /proc/self/status (for --json reports and the memory test).
#pragma once

#include <cstdint>

namespace seek {

// VmRSS (now) and VmHWM (the peak) in bytes; -1 where /proc is not readable.
int64_t resident_bytes();
int64_t peak_resident_bytes();

}  // namespace seek
