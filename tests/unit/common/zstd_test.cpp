#include "common/zstd.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace meadow::zstd {
namespace {

std::string sample_text(std::size_t n) {
  std::string s;
  std::mt19937 rng(7);
  const char* words[] = {"meadow ", "page ", "record ", "fetch ", "<div>", "</div>\n", "signed "};
  while (s.size() < n) s += words[rng() % 7];
  s.resize(n);
  return s;
}

std::string random_bytes(std::size_t n) {
  std::string s(n, '\0');
  std::mt19937 rng(11);
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(Zstd, RoundTrip) {
  for (const std::string& data :
       {std::string(), std::string("x"), sample_text(200000), random_bytes(70000)}) {
    const std::string packed = compress(data);
    auto back = decompress(packed, data.size());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back.value(), data);
  }
  const std::string text = sample_text(100000);
  EXPECT_LT(compress(text).size(), text.size() / 4);
}

TEST(Zstd, AllLevelsDecodeAndOutOfRangeLevelsAreClamped) {
  const std::string data = sample_text(50000);
  for (int level : {-5, 0, 1, 3, 9, 19, 22, 100}) {
    auto back = decompress(compress(data, level), data.size());
    ASSERT_TRUE(back.ok()) << "level " << level;
    EXPECT_EQ(back.value(), data);
  }
}

TEST(Zstd, ConcatenatedFramesDecodeAsOne) {
  const std::string a = sample_text(1000), b = random_bytes(500), c = sample_text(3);
  auto back = decompress(compress(a) + compress(b, 1) + compress(c, 19), 1503);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), a + b + c);
}

TEST(Zstd, EmptyInputIsNoFrames) {
  auto back = decompress("", 10);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), "");
}

TEST(Zstd, OutputCapIsExact) {
  const std::string data = sample_text(10000);
  const std::string packed = compress(data);
  EXPECT_TRUE(decompress(packed, 10000).ok());
  auto r = decompress(packed, 9999);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::too_large);
  EXPECT_EQ(r.error().code, "decompressed-too-large");
  EXPECT_FALSE(decompress(compress("a"), 0).ok());
}

TEST(Zstd, BombStopsAtTheCapWithBoundedOutput) {
  // 1 GiB of zeros in a few tens of KiB.
  Compressor c(1);
  std::string bomb;
  const std::string zeros(1 << 20, '\0');
  for (int i = 0; i < 1024; ++i) c.write(zeros, bomb);
  c.end_frame(bomb);
  ASSERT_LT(bomb.size(), 1u << 20);

  const std::size_t cap = 4u << 20;
  auto r = decompress(bomb, cap);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "decompressed-too-large");

  Decompressor d(cap);
  std::string out;
  const Status s = d.write(bomb, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "decompressed-too-large");
  EXPECT_LE(out.size(), cap);
  EXPECT_LE(d.total_out(), cap);
  // The decompressor stays failed.
  EXPECT_FALSE(d.write(compress("a"), out).ok());
  EXPECT_FALSE(d.finish().ok());
}

TEST(Zstd, HugeWindowIsRefusedBeforeAllocating) {
  // A frame header asking for a 128 MiB window (window descriptor 0x88), then an empty
  // last raw block.
  const std::string frame("\x28\xb5\x2f\xfd\x00\x88\x01\x00\x00", 9);
  auto r = decompress(frame, 1 << 30);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::too_large);
  EXPECT_EQ(r.error().code, "zstd-window-too-large");
  // The same frame with a 1 MiB window (descriptor 0x50) is fine.
  auto ok = decompress(std::string("\x28\xb5\x2f\xfd\x00\x50\x01\x00\x00", 9), 10);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok.value(), "");
}

TEST(Zstd, HighlyRepetitiveDataDecodesWholeUnderALargerCap) {
  // A page cut at a node's 4 MiB cap that repeats itself compresses about 400:1; the decoder
  // hands such blocks out a piece at a time even after it has taken all the input.
  std::string page;
  while (page.size() < (4u << 20)) page += "<p>The same paragraph of a huge page, again and again.</p>\n";
  page.resize(4u << 20);
  const std::string packed = compress(page, 1);
  ASSERT_LT(packed.size(), page.size() / 100);
  for (std::size_t cap : {page.size(), page.size() + 1, std::size_t{16} << 20}) {
    auto back = decompress(packed, cap);
    ASSERT_TRUE(back.ok()) << "cap " << cap << ": " << back.error().message;
    EXPECT_EQ(back.value(), page);
  }
  auto cut = decompress(packed.substr(0, packed.size() - 5), 16u << 20);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, "bad-zstd");
}

TEST(Zstd, TruncatedInputIsBad) {
  const std::string data = sample_text(20000);
  const std::string packed = compress(data);
  for (std::size_t keep :
       {std::size_t{1}, std::size_t{4}, std::size_t{10}, packed.size() / 2, packed.size() - 1}) {
    auto r = decompress(packed.substr(0, keep), data.size());
    ASSERT_FALSE(r.ok()) << "kept " << keep;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid);
    EXPECT_EQ(r.error().code, "bad-zstd");
  }
}

TEST(Zstd, CorruptInputIsBad) {
  const std::string data = sample_text(20000);
  const std::string packed = compress(data);
  for (std::size_t at : {std::size_t{0}, packed.size() / 3, packed.size() / 2, packed.size() - 2}) {
    std::string broken = packed;
    broken[at] = static_cast<char>(broken[at] ^ 0x5a);
    auto r = decompress(broken, data.size() * 2);
    ASSERT_FALSE(r.ok()) << "flipped byte " << at;
    EXPECT_EQ(r.error().code, "bad-zstd");
  }
  auto garbage = decompress("this is not zstd at all", 1000);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, "bad-zstd");
  auto trailing = decompress(compress("abc") + "junk", 1000);
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.error().code, "bad-zstd");
}

TEST(ZstdStreaming, EndFrameMakesIndependentlyDecodableFrames) {
  Compressor c;
  std::string out;
  std::vector<std::size_t> ends;
  const std::vector<std::string> records = {sample_text(5000), random_bytes(3000), "", "last"};
  for (const auto& r : records) {
    c.write(r.substr(0, r.size() / 2), out);
    c.write(r.substr(r.size() / 2), out);
    c.end_frame(out);
    ends.push_back(out.size());
  }
  std::size_t begin = 0;
  std::string all;
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto one = decompress(std::string_view(out).substr(begin, ends[i] - begin), 1 << 20);
    ASSERT_TRUE(one.ok()) << "frame " << i << ": " << one.error().message;
    EXPECT_EQ(one.value(), records[i]);
    all += records[i];
    begin = ends[i];
  }
  auto whole = decompress(out, 1 << 20);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole.value(), all);
}

TEST(ZstdStreaming, DecompressorTakesInputInAnyPieces) {
  const std::string data = sample_text(300000);
  const std::string packed = compress(data) + compress("tail");
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    Decompressor d(data.size() + 4);
    std::string out;
    for (std::size_t i = 0; i < packed.size(); i += piece) {
      ASSERT_TRUE(d.write(std::string_view(packed).substr(i, piece), out).ok());
    }
    EXPECT_TRUE(d.finish().ok());
    EXPECT_EQ(out, data + "tail");
    EXPECT_EQ(d.total_out(), data.size() + 4);
  }
}

TEST(ZstdStreaming, FinishReportsTruncation) {
  const std::string packed = compress(sample_text(1000));
  Decompressor d(10000);
  std::string out;
  ASSERT_TRUE(d.write(std::string_view(packed).substr(0, packed.size() - 3), out).ok());
  const Status s = d.finish();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "bad-zstd");
  EXPECT_NE(s.error().message.find("truncated"), std::string::npos);
}

TEST(ZstdStreaming, CapCountsAcrossWrites) {
  const std::string packed = compress(std::string(600, 'a'));
  Decompressor d(1000);
  std::string out;
  ASSERT_TRUE(d.write(packed, out).ok());
  const Status s = d.write(packed, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "decompressed-too-large");
  EXPECT_LE(out.size(), 1000u);
}

}  // namespace
}  // namespace meadow::zstd

namespace meadow::zstd {
namespace {

TEST(ZstdReuse, OneShotCallsAfterAFailureStartClean) {
  std::string bomb = compress(std::string(1 << 20, 'a'));
  auto failed = decompress(bomb, 1000);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "decompressed-too-large");
  auto truncated = decompress(compress("hello world").substr(0, 5), 1000);
  ASSERT_FALSE(truncated.ok());
  auto fine = decompress(compress("hello world"), 1000);
  ASSERT_TRUE(fine.ok()) << fine.error().message;
  EXPECT_EQ(*fine, "hello world");
}

TEST(ZstdReuse, ResetDecompressorTakesANewStreamAndCap) {
  Decompressor d(4);
  std::string out;
  EXPECT_FALSE(d.write(compress("more than four"), out).ok());
  d.reset(100);
  out.clear();
  ASSERT_TRUE(d.write(compress("more than four"), out).ok());
  ASSERT_TRUE(d.finish().ok());
  EXPECT_EQ(out, "more than four");
  EXPECT_EQ(d.total_out(), 14u);
}

}  // namespace
}  // namespace meadow::zstd
