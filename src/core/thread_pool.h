// ThreadPool: a fixed set of workers that run one parallel region at a time. The calling thread takes part as
// thread 0. Workers spin briefly before sleeping, so the back-to-back small regions of decode stay cheap.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace seek {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(thread_index, n_threads) once on each of the n_threads threads and returns when all have finished.
  void run(const std::function<void(int, int)>& fn);

  // Splits [0, n) into n_threads contiguous parts, rounded to multiples of `align`; part `ti` is [begin, end).
  static void split(int64_t n, int ti, int nt, int64_t align, int64_t* begin, int64_t* end);

 private:
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> threads_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
};

}  // namespace seek
