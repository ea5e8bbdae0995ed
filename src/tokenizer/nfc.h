// Unicode Normalization Form C, as the Qwen2 tokenizer's normalizer applies it before pre-tokenisation.
#pragma once

#include <string>
#include <string_view>

namespace seek {

// True when s contains a character that NFC might change; false means s is certainly already in NFC.
bool nfc_may_change(std::string_view s);

// The NFC form of s. Ill-formed bytes pass through unchanged and act as starters that compose with nothing.
std::string nfc(std::string_view s);

}  // namespace seek
