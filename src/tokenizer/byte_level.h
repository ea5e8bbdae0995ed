// GPT-2's byte-to-unicode mapping: byte-level BPE vocabularies store each byte as a printable character
// (printable Latin-1 bytes as themselves, the other 68 bytes as U+0100..U+0143 in byte order; space is 'Ġ').
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seek {

// The code point that stands for byte b in vocabulary strings.
uint32_t byte_to_unicode(uint8_t b);

// Raw bytes -> vocabulary form ("hello world" -> "helloĠworld").
std::string byte_level_encode(std::string_view raw);

// Vocabulary form -> raw bytes; nullopt when a character is not one of the 256 byte characters.
std::optional<std::string> byte_level_decode(std::string_view text);

}  // namespace seek
