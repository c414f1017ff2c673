// The data fingerprint model files and tuning journals record: the same value from one process
// and from any number of ranks each hashing its share of the chunks, and the same value tuning
// journals have always keyed on (so their resume keeps working).
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "artifact/fnv1a.hpp"
#include "io/file_fingerprint.hpp"
#include "support/temp_path.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula {
namespace {

/// Rank `rank` of `ranks` whose one int64 all-reduce either records this rank's contribution
/// (`total` null) or answers the sum given in `total`.
class ChunkExchange final : public Communicator {
 public:
  ChunkExchange(int rank, int ranks, const std::vector<std::int64_t>* total)
      : rank_(rank), ranks_(ranks), total_(total) {}
  int rank() const override { return rank_; }
  int size() const override { return ranks_; }
  void all_reduce_sum(std::span<double>) override { ADD_FAILURE() << "not expected"; }
  void all_reduce_sum(std::span<std::int64_t> values) override {
    if (total_ == nullptr) {
      contribution.assign(values.begin(), values.end());
      return;
    }
    ASSERT_EQ(values.size(), total_->size());
    std::copy(total_->begin(), total_->end(), values.begin());
  }
  void broadcast(std::string&, int) override { ADD_FAILURE() << "not expected"; }
  std::vector<std::string> all_gather(const std::string&) override {
    ADD_FAILURE() << "not expected";
    return {};
  }
  [[noreturn]] void abort(int) override { std::abort(); }
  std::string describe() const override { return "chunk exchange"; }

  std::vector<std::int64_t> contribution;

 private:
  int rank_, ranks_;
  const std::vector<std::int64_t>* total_;
};

TEST(FileFingerprint, EveryRankCountEndsWithTheOneProcessValue) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("big.bin");
  // Three chunks of 16 MiB and a short fourth, with bytes that differ between chunks.
  const std::size_t size = (std::size_t{3} << 24) + 12345;
  {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
    std::ofstream(path, std::ios::binary) << bytes;
  }
  const std::uint64_t single = io::file_fingerprint(path);
  // The definition tuning journals were written with: chunk hashes, then the size.
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::uint64_t> chunks;
    for (std::size_t at = 0; at < size; at += std::size_t{1} << 24)
      chunks.push_back(
          detail::fnv1a64(bytes.data() + at, std::min(size - at, std::size_t{1} << 24)));
    const auto length = static_cast<std::int64_t>(size);
    EXPECT_EQ(single, detail::fnv1a64(&length, sizeof length,
                                      detail::fnv1a64(chunks.data(), chunks.size() * 8)));
  }
  for (int ranks = 1; ranks <= 6; ++ranks) {
    std::vector<std::int64_t> total;
    for (int r = 0; r < ranks; ++r) {
      ChunkExchange record(r, ranks, nullptr);
      io::file_fingerprint(path, &record);
      if (total.empty()) total.assign(record.contribution.size(), 0);
      ASSERT_EQ(record.contribution.size(), total.size());
      for (std::size_t c = 0; c < total.size(); ++c) {
        // Each chunk is hashed by exactly one rank.
        if (record.contribution[c] != 0) EXPECT_EQ(total[c], 0) << ranks << " ranks, chunk " << c;
        total[c] += record.contribution[c];
      }
    }
    for (int r = 0; r < ranks; ++r) {
      ChunkExchange answer(r, ranks, &total);
      EXPECT_EQ(io::file_fingerprint(path, &answer), single) << ranks << " ranks, rank " << r;
    }
  }
  // Any changed byte changes it.
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(size - 1));
    f.put('\x7f');
  }
  EXPECT_NE(io::file_fingerprint(path), single);
}

}  // namespace
}  // namespace tabula
