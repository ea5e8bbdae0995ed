// The table of ggml tensor types (ids, names, block layouts) as llama.cpp defines them.
#include "quant/types.h"

#include <array>
#include <cctype>

namespace seek {

namespace {

struct Row {
  uint32_t id;
  TypeTraits t;
};

// Block sizes and bytes follow ggml's block structs (e.g. block_q8_0 = f16 d + 32 int8 = 34 bytes).
constexpr std::array<Row, 31> kTypes{{
    {0, {"f32", 1, 4}},         {1, {"f16", 1, 2}},         {2, {"q4_0", 32, 18}},
    {3, {"q4_1", 32, 20}},      {6, {"q5_0", 32, 22}},      {7, {"q5_1", 32, 24}},
    {8, {"q8_0", 32, 34}},      {9, {"q8_1", 32, 36}},      {10, {"q2_K", 256, 84}},
    {11, {"q3_K", 256, 110}},   {12, {"q4_K", 256, 144}},   {13, {"q5_K", 256, 176}},
    {14, {"q6_K", 256, 210}},   {15, {"q8_K", 256, 292}},   {16, {"iq2_xxs", 256, 66}},
    {17, {"iq2_xs", 256, 74}},  {18, {"iq3_xxs", 256, 98}}, {19, {"iq1_s", 256, 50}},
    {20, {"iq4_nl", 32, 18}},   {21, {"iq3_s", 256, 110}},  {22, {"iq2_s", 256, 82}},
    {23, {"iq4_xs", 256, 136}}, {24, {"i8", 1, 1}},         {25, {"i16", 1, 2}},
    {26, {"i32", 1, 4}},        {27, {"i64", 1, 8}},        {28, {"f64", 1, 8}},
    {29, {"iq1_m", 256, 56}},   {30, {"bf16", 1, 2}},       {34, {"tq1_0", 256, 54}},
    {35, {"tq2_0", 256, 66}},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

std::optional<TypeTraits> type_traits(uint32_t type_id) {
  for (const Row& r : kTypes)
    if (r.id == type_id) return r.t;
  if (type_id == 39) return TypeTraits{"mxfp4", 32, 17};
  if (type_id == 60) return TypeTraits{"f8_e4m3", 1, 1};
  return std::nullopt;
}

std::optional<GgmlType> type_from_name(std::string_view name) {
  for (const Row& r : kTypes)
    if (iequals(r.t.name, name)) return GgmlType(r.id);
  return std::nullopt;
}

}  // namespace seek
