// Implementation of the named ops through the selected kernel table.
#include "model/ops.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

static_assert(kPanelRows == kGemmPanelRows);

namespace {

// A quantised batch given to a product that does not take it (takes_q8_batch), or of another width.
[[noreturn]] void die_panels_contract() {
  std::fprintf(stderr, "internal error: a q8_0 batch given to a product that does not take it\n");
  std::abort();
}

// Up to this many tokens a product reads each row once and takes dot products; above it, the packed GEMM wins.
// Types with a prepared dot (dot_q8x: a row's codes formed once for up to kMaxRowPassTokens tokens) keep the row
// loop longer (kMaxPreparedTokens).
constexpr int64_t kRowLoopMaxTokens = 4;

// Up to this many tokens the calling thread quantises a product's activations alone: a parallel region for it
// costs more than it saves.
constexpr int64_t kQuantizeAloneTokens = 16;

// Up to this many tokens a type with a prepared dot keeps reading each row once: in passes of at most
// kMaxRowPassTokens over the row while it sits in L1. That is cheaper than requantising and packing the rows for the
// integer GEMM every step (v3-bench Q4_K_M, 16 sequences decoding together: 191 -> 214-226 tokens/s).
constexpr int64_t kMaxPreparedTokens = 2 * kMaxRowPassTokens;

// Whether w x takes the prepared dot: quantised activations, a type that has it, and few enough tokens.
bool uses_prepared_dot(const TypeKernels& tk, int64_t K, int64_t n_tok) {
  return tk.dot_q8x && K % kQK8_0 == 0 && quantized_activations() && n_tok <= kMaxPreparedTokens;
}

int64_t row_loop_limit(const TypeKernels& tk, int64_t K) {
  return uses_prepared_dot(tk, K, 1) ? kMaxPreparedTokens : kRowLoopMaxTokens;
}

// Tokens quantised to q8_0 and laid out for the prepared dots (prepare_q8x), once per product.
struct PreparedTokens {
  std::vector<BlockQ8_0> q;
  std::vector<int8_t> qs;
  std::vector<float> d16, s16;
  Q8Act act[kMaxPreparedTokens];
};

void prepare_tokens(const KernelTable& k, const float* x, int64_t ldx, int64_t n_tok, int64_t K, PreparedTokens& p) {
  const int64_t nb = K / kQK8_0, ng = K / 16;
  p.q.resize(size_t(nb));
  p.qs.resize(size_t(K * n_tok));
  p.d16.resize(size_t(ng * n_tok));
  p.s16.resize(size_t(ng * n_tok));
  for (int64_t t = 0; t < n_tok; ++t) {
    k.quantize_q8_0(x + t * ldx, reinterpret_cast<uint8_t*>(p.q.data()), K);
    prepare_q8x(p.q.data(), K, p.qs.data() + t * K, p.d16.data() + t * ng, p.s16.data() + t * ng);
    p.act[t] = {p.qs.data() + t * K, p.d16.data() + t * ng, p.s16.data() + t * ng};
  }
}

// y = w x for up to kMaxPreparedTokens prepared tokens: per row, passes of the prepared dot over at most
// kMaxRowPassTokens tokens each (as even as they go), the row read from memory once. Each token's result has the
// same bits however the tokens are grouped (dot_q8x's contract).
void rows_prepared(const TypeKernels& tk, const Mat& w, const PreparedTokens& p, int64_t n_tok, float* y, int64_t ldy) {
  float out[kMaxPreparedTokens];
  const int64_t passes = (n_tok + kMaxRowPassTokens - 1) / kMaxRowPassTokens;
  for (int64_t r = 0; r < w.rows; ++r) {
    for (int64_t i = 0, t0 = 0; i < passes; ++i) {
      const int64_t nt = (n_tok - t0) / (passes - i);
      tk.dot_q8x(w.row(r), p.act + t0, int(nt), w.cols, out + t0);
      t0 += nt;
    }
    for (int64_t t = 0; t < n_tok; ++t) y[t * ldy + r] = out[t];
  }
}

// Per-thread scratch of at least n floats.
float* scratch_floats(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

void quantize_tokens(const KernelTable& k, const float* x, int64_t ldx, int64_t t0, int64_t t1, int64_t K,
                     Q8Batch& out) {
  const int64_t nb = K / kQK8_0;
  for (int64_t t = t0; t < t1; ++t) {
    BlockQ8_0* q = out.q.data() + t * nb;
    k.quantize_q8_0(x + t * ldx, reinterpret_cast<uint8_t*>(q), K);
    for (int64_t b = 0; b < nb; ++b) {
      int32_t s = 0;
      for (int j = 0; j < kQK8_0; ++j) s += q[b].qs[j];
      out.d[size_t(t * nb + b)] = f16_to_f32(q[b].d);
      out.off[size_t(t * nb + b)] = -128 * s;
    }
  }
}

void resize_tokens(Q8Batch& xt, int64_t n_tok, int64_t K) {
  const size_t n = size_t(n_tok * (K / kQK8_0));
  xt.n_tok = n_tok;
  xt.K = K;
  xt.q.resize(n);
  xt.d.resize(n);
  xt.off.resize(n);
}

// Weights of at most 6 bits per value: in a batch they are requantised to q8_0 (32 rows at a time) for the integer
// GEMM. The 8-bit rounding of a 4- to 6-bit grid is a quarter of the type's own step or less, the size of the
// activations' own q8_0 rounding; decode keeps the types' exact integer dots.
bool requantised_in_batches(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: case GgmlType::Q5_0: case GgmlType::Q5_1: case GgmlType::IQ4_NL: case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K: case GgmlType::Q2_K:
    case GgmlType::Q3_K: case GgmlType::IQ4_XS:
      return true;
    default:
      return false;
  }
}

// Whether w x takes the integer GEMM: 8-bit (or requantised lower-bit) weights, a batch, quantised activations.
bool use_q8_gemm(const KernelTable& k, const Mat& w, int64_t n_tok) {
  return (w.type == GgmlType::Q8_0 || requantised_in_batches(w.type)) && n_tok > row_loop_limit(k.of(w.type), w.cols) &&
         k.gemm_q8_0_panel && w.cols % kQK8_0 == 0 && quantized_activations();
}

// y = w x for tokens already quantised: panels of 32 rows packed for VNNI, each multiplied with every token.
void gemm_q8_rows(const KernelTable& k, const Mat& w, const Q8Batch& xt, int64_t n_tok, float* y, int64_t ldy) {
  const int64_t K = w.cols;
  thread_local std::vector<uint8_t> panel;
  panel.resize(q8_0_panel_bytes(K));
  const bool requant = w.type != GgmlType::Q8_0;
  const size_t q8_stride = row_bytes(GgmlType::Q8_0, K);
  thread_local std::vector<uint8_t> q8_rows;
  thread_local std::vector<float> f32_row;
  if (requant) {
    q8_rows.resize(size_t(kGemmPanelRows) * q8_stride);
    f32_row.resize(size_t(K));
  }
  for (int64_t r0 = 0; r0 < w.rows; r0 += kGemmPanelRows) {
    const int nr = int(std::min(kGemmPanelRows, w.rows - r0));
    const uint8_t* rows = w.row(r0);
    size_t stride = w.row_stride;
    if (requant) {
      for (int i = 0; i < nr; ++i) {
        k.of(w.type).dequant(w.row(r0 + i), f32_row.data(), K);
        k.quantize_q8_0(f32_row.data(), q8_rows.data() + size_t(i) * q8_stride, K);
      }
      rows = q8_rows.data();
      stride = q8_stride;
    }
    k.pack_q8_0_panel(rows, stride, nr, K, panel.data());
    const int64_t next = r0 + kGemmPanelRows;
    k.gemm_q8_0_panel(panel.data(), K, xt.q.data(), xt.d.data(), xt.off.data(), n_tok, y + r0, ldy, nr,
                      next < w.rows ? w.row(next) : nullptr, w.row_stride, int(std::min(kGemmPanelRows, w.rows - next)));
  }
}

// y = w x for a matrix held as Q8_0 panels (Mat::layout): no packing, the kernel reads the panels as they are,
// and a token's result has the same bits whatever other tokens share the product.
void gemm_q8_panels(const KernelTable& k, const Mat& w, const Q8Batch& xt, int64_t n_tok, float* y, int64_t ldy) {
  // A table without the GEMM (AVX2) chosen after the weights were repacked: the reference reads the same panels.
  const auto gemm = k.gemm_q8_0_panel ? k.gemm_q8_0_panel : ref_kernels().gemm_q8_0_panel;
  for (int64_t r0 = 0; r0 < w.rows; r0 += kPanelRows) {
    const int nr = int(std::min(kPanelRows, w.rows - r0));
    const uint8_t* next = r0 + kPanelRows < w.rows ? w.panel(r0 / kPanelRows + 1) : nullptr;
    gemm(w.panel(r0 / kPanelRows), w.cols, xt.q.data(), xt.d.data(), xt.off.data(), n_tok, y + r0, ldy, nr, next,
         0, 0);
  }
}

// Row r of w as f32, for every stored type (FP8 rows take their block scales along).
void dequant_row(const KernelTable& k, const Mat& w, int64_t r, float* dst) {
  if (w.panels()) {  // the row's blocks unpacked from its panel
    thread_local std::vector<BlockQ8_0> blocks;
    blocks.resize(size_t(w.cols / kQK8_0));
    q8_0_panel_row(w.panel(r / kPanelRows), w.cols, int(r % kPanelRows), blocks.data());
    k.of(GgmlType::Q8_0).dequant(reinterpret_cast<const uint8_t*>(blocks.data()), dst, w.cols);
    return;
  }
  if (w.type == GgmlType::F8_E4M3) k.dequant_f8_e4m3(w.row(r), w.row_scales(r), dst, w.cols);
  else k.of(w.type).dequant(w.row(r), dst, w.cols);
}

}  // namespace

void matmul_serial(const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy) {
  const KernelTable& k = kernels();
  const TypeKernels& tk = k.of(w.type);
  const int64_t K = w.cols;
  if (w.panels()) {
    thread_local Q8Batch xt;
    quantize_batch(nullptr, x, ldx, n_tok, K, xt);
    gemm_q8_panels(k, w, xt, n_tok, y, ldy);
    return;
  }
  // A few tokens (decode, or several sequences decoding together): each weight row is read once from memory and
  // dotted with every token while it sits in L1. 8-bit weights meet activations quantised once per token.
  if (n_tok <= row_loop_limit(tk, K)) {
    if (uses_prepared_dot(tk, K, n_tok)) {
      thread_local PreparedTokens p;
      prepare_tokens(k, x, ldx, n_tok, K, p);
      rows_prepared(tk, w, p, n_tok, y, ldy);
    } else if (tk.dot_q8 && K % kQK8_0 == 0 && quantized_activations()) {
      thread_local std::vector<BlockQ8_0> xq;
      const int64_t nb = K / kQK8_0;
      xq.resize(size_t(nb * n_tok));
      for (int64_t t = 0; t < n_tok; ++t) k.quantize_q8_0(x + t * ldx, reinterpret_cast<uint8_t*>(xq.data() + t * nb), K);
      for (int64_t r = 0; r < w.rows; ++r)
        for (int64_t t = 0; t < n_tok; ++t) y[t * ldy + r] = tk.dot_q8(w.row(r), xq.data() + t * nb, K);
    } else if (w.type == GgmlType::F8_E4M3) {
      for (int64_t r = 0; r < w.rows; ++r)
        for (int64_t t = 0; t < n_tok; ++t) y[t * ldy + r] = k.dot_f8_e4m3(w.row(r), w.row_scales(r), x + t * ldx, K);
    } else {
      for (int64_t r = 0; r < w.rows; ++r)
        for (int64_t t = 0; t < n_tok; ++t) y[t * ldy + r] = tk.dot(w.row(r), x + t * ldx, K);
    }
    return;
  }
  if (use_q8_gemm(k, w, n_tok)) {
    thread_local Q8Batch xt;
    quantize_batch(nullptr, x, ldx, n_tok, K, xt);
    gemm_q8_rows(k, w, xt, n_tok, y, ldy);
    return;
  }
  // Batched (prefill): kPanel rows at a time are dequantised and packed k-major, so one vector load of weights
  // serves every token of a register block (kernels' gemm_panel).
  constexpr int64_t P = kGemmPanelRows;
  float* rows = scratch_floats(size_t(P * K) * 2);
  float* panel = rows + P * K;
  for (int64_t r0 = 0; r0 < w.rows; r0 += P) {
    const int64_t nr = std::min(P, w.rows - r0);
    for (int64_t i = 0; i < nr; ++i) dequant_row(k, w, r0 + i, rows + i * K);
    if (nr < P) std::fill(rows + nr * K, rows + P * K, 0.0f);
    k.pack_panel(rows, K, panel);
    k.gemm_panel(panel, K, x, ldx, n_tok, y + r0, ldy, int(nr));
  }
}

void matmul_t_serial(const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy) {
  const KernelTable& k = kernels();
  float* row = scratch_floats(size_t(w.cols));
  for (int64_t t = 0; t < n_tok; ++t)
    for (int64_t c = 0; c < w.cols; ++c) y[t * ldy + c] = 0.0f;
  for (int64_t r = 0; r < w.rows; ++r) {
    const float* wr = reinterpret_cast<const float*>(w.row(r));
    if (w.type != GgmlType::F32) {
      dequant_row(k, w, r, row);
      wr = row;
    }
    for (int64_t t = 0; t < n_tok; ++t) k.axpy(x[t * ldx + r], wr, y + t * ldy, w.cols);
  }
}

void matmul(ThreadPool& pool, const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy) {
  // Below ~64k multiply-adds a parallel region costs more than it saves.
  if (w.rows * w.cols * n_tok < (int64_t(1) << 16)) {
    matmul_serial(w, x, ldx, n_tok, y, ldy);
    return;
  }
  const KernelTable& k = kernels();
  const TypeKernels& tk = k.of(w.type);
  if (!w.panels() && uses_prepared_dot(tk, w.cols, n_tok)) {
    // The tokens are quantised and prepared once, on this thread, then each thread takes its rows. (A
    // thread_local named inside the lambda would be each worker's own: they reach this one through a reference.)
    thread_local PreparedTokens mine;
    PreparedTokens& p = mine;
    prepare_tokens(k, x, ldx, n_tok, w.cols, p);
    pool.run([&](int ti, int nt) {
      int64_t r0, r1;
      ThreadPool::split(w.rows, ti, nt, kGemmPanelRows, &r0, &r1);
      if (r0 < r1) rows_prepared(tk, w.slice_rows(r0, r1 - r0), p, n_tok, y + r0, ldy);
    });
    return;
  }
  if (w.panels() || use_q8_gemm(k, w, n_tok)) {
    // The batch is quantised once (split by tokens), then each thread multiplies its rows with all of it.
    thread_local Q8Batch mine;
    // Named inside the lambdas, a thread_local would be each worker's own: the workers must reach the calling
    // thread's buffer through this reference.
    Q8Batch& xt = mine;
    quantize_batch(&pool, x, ldx, n_tok, w.cols, xt);
    if (w.panels()) {
      matmul(pool, w, xt, y, ldy);
      return;
    }
    pool.run([&](int ti, int nt) {
      int64_t r0, r1;
      ThreadPool::split(w.rows, ti, nt, kGemmPanelRows, &r0, &r1);
      if (r0 < r1) gemm_q8_rows(k, w.slice_rows(r0, r1 - r0), xt, n_tok, y + r0, ldy);
    });
    return;
  }
  pool.run([&](int ti, int nt) {
    int64_t r0, r1;
    ThreadPool::split(w.rows, ti, nt, kGemmPanelRows, &r0, &r1);
    if (r0 < r1) matmul_serial(w.slice_rows(r0, r1 - r0), x, ldx, n_tok, y + r0, ldy);
  });
}

void quantize_batch(ThreadPool* pool, const float* x, int64_t ldx, int64_t n_tok, int64_t K, Q8Batch& out) {
  const KernelTable& k = kernels();
  resize_tokens(out, n_tok, K);
  if (pool == nullptr || n_tok <= kQuantizeAloneTokens) {
    quantize_tokens(k, x, ldx, 0, n_tok, K, out);
    return;
  }
  pool->run([&](int ti, int nt) {
    int64_t t0, t1;
    ThreadPool::split(n_tok, ti, nt, 1, &t0, &t1);
    quantize_tokens(k, x, ldx, t0, t1, K, out);
  });
}

void gather_batch(const Q8Batch& src, const int64_t* rows, int64_t n, Q8Batch& dst) {
  const int64_t nb = src.K / kQK8_0;
  resize_tokens(dst, n, src.K);
  for (int64_t i = 0; i < n; ++i) {
    const size_t from = size_t(rows[i] * nb), to = size_t(i * nb);
    std::copy_n(src.q.begin() + from, nb, dst.q.begin() + to);
    std::copy_n(src.d.begin() + from, nb, dst.d.begin() + to);
    std::copy_n(src.off.begin() + from, nb, dst.off.begin() + to);
  }
}

void matmul_serial(const Mat& w, const Q8Batch& x, float* y, int64_t ldy) {
  if (!takes_q8_batch(w) || w.cols != x.K) die_panels_contract();
  gemm_q8_panels(kernels(), w, x, x.n_tok, y, ldy);
}

void matmul(ThreadPool& pool, const Mat& w, const Q8Batch& x, float* y, int64_t ldy) {
  if (!takes_q8_batch(w) || w.cols != x.K) die_panels_contract();
  if (w.rows * w.cols * x.n_tok < (int64_t(1) << 16)) {  // as for f32 input
    matmul_serial(w, x, y, ldy);
    return;
  }
  pool.run([&](int ti, int nt) {
    int64_t r0, r1;
    ThreadPool::split(w.rows, ti, nt, kGemmPanelRows, &r0, &r1);
    if (r0 < r1) gemm_q8_panels(kernels(), w.slice_rows(r0, r1 - r0), x, x.n_tok, y + r0, ldy);
  });
}

void rmsnorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  // Four partial sums: one chain of dependent double adds took ~2 us a 2048-wide row (~5% of a prefill).
  double part[4] = {0.0, 0.0, 0.0, 0.0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; ++j) part[j] += double(x[i + j]) * double(x[i + j]);
  for (; i < n; ++i) part[0] += double(x[i]) * double(x[i]);
  const double sum = (part[0] + part[1]) + (part[2] + part[3]);
  const float scale = 1.0f / std::sqrt(float(sum / double(n)) + eps);
  for (i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void parallel_rows(ThreadPool* pool, int64_t n, int64_t work_per_row, const std::function<void(int64_t, int64_t)>& fn) {
  if (pool == nullptr || pool->size() == 1 || n < 2 || n * work_per_row < kParallelRowsWork) {
    fn(0, n);
    return;
  }
  pool->run([&](int ti, int nt) {
    int64_t r0, r1;
    ThreadPool::split(n, ti, nt, 1, &r0, &r1);
    if (r0 < r1) fn(r0, r1);
  });
}

void rmsnorm_rows(ThreadPool* pool, const float* x, int64_t ldx, const float* weight, int64_t n_rows, int64_t n,
                  float eps, float* out, int64_t ldo) {
  parallel_rows(pool, n_rows, n, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) rmsnorm(x + r * ldx, weight, n, eps, out + r * ldo);
  });
}

void swiglu(float* a, const float* b, int64_t n) { kernels().swiglu(a, b, n); }

void softmax(float* x, int64_t n) { kernels().softmax(x, n); }

void row_f32(const Mat& w, int64_t r, float* out) { dequant_row(kernels(), w, r, out); }

void attend_rows(const float* q, const float* rows, int64_t stride, int64_t n_rows, int64_t n, int64_t n_ctx,
                 float scale, float* scores, float* ctx) {
  const KernelTable& k = kernels();
  k.dot_rows(q, rows, stride, n_rows, n, scale, scores);
  softmax(scores, n_rows);
  k.sum_rows(scores, rows, stride, n_rows, n_ctx, ctx);
}

void attend_rows_n(const float* q, int64_t ldq, int64_t n_q, const float* rows, int64_t stride, int64_t n_rows,
                   int64_t n, int64_t n_ctx, float scale, float* scores, float* ctx, int64_t ldc) {
  const KernelTable& k = kernels();
  if (!k.dot_rows_n || !k.sum_rows_n) {
    for (int64_t i = 0; i < n_q; ++i)
      attend_rows(q + i * ldq, rows, stride, n_rows, n, n_ctx, scale, scores + i * n_rows, ctx + i * ldc);
    return;
  }
  k.dot_rows_n(q, ldq, n_q, rows, stride, n_rows, n, scale, scores, n_rows);
  for (int64_t i = 0; i < n_q; ++i) softmax(scores + i * n_rows, n_rows);
  k.sum_rows_n(scores, n_rows, n_q, rows, stride, n_rows, n_ctx, ctx, ldc);
}

}  // namespace seek

namespace seek {
float vec_dot(const float* a, const float* b, int64_t n) { return kernels().dot_f32(a, b, n); }
void vec_axpy(float a, const float* x, float* y, int64_t n) { kernels().axpy(a, x, y, n); }
}  // namespace seek
