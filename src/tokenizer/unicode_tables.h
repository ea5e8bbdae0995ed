// Declarations of the generated Unicode tables (unicode_tables.cpp, made by tools/tokenizer/gen_unicode_tables.mjs).
#pragma once

#include <cstdint>

namespace seek::unicode_tables {

struct FlagRun {
  uint32_t first;  // first code point of the run
  uint8_t value;   // flags (kFlagRuns) or combining-class rank (kCccRuns)
};
struct Decomposition {
  uint32_t cp;
  uint16_t offset;  // into kDecompPool
  uint8_t length;
};
struct Composition {
  uint32_t first, second, composite;
};

extern const char* const kUnicodeVersion;
extern const FlagRun kFlagRuns[];
extern const int kFlagRunCount;
extern const FlagRun kCccRuns[];
extern const int kCccRunCount;
extern const Decomposition kDecompositions[];
extern const int kDecompositionCount;
extern const uint32_t kDecompPool[];
extern const Composition kCompositions[];
extern const int kCompositionCount;

}  // namespace seek::unicode_tables
