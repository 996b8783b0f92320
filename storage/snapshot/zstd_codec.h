// zstd compression of snapshot values, with one reusable context and output buffer per
// object (STYLE.md section 6: one zstd context per thread, not one per value).
//
// Every zstd result is checked with ZSTD_isError here and turned into a Status; nothing
// above this file sees a zstd size_t. Frames are written with their content size and a
// content checksum, so a damaged compressed value is reported instead of loaded.
//
// Thread-safety: none. Use one ZstdCompressor / ZstdDecompressor per thread (the store
// uses its compressor under its writer mutex and makes a decompressor per Load call).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "common/result.h"

// Forward declarations from <zstd.h>, kept out of this header.
struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace memento::snapshot {

class ZstdCompressor {
 public:
  // Returns IOError if zstd cannot allocate its context or rejects `level`.
  static Result<std::unique_ptr<ZstdCompressor>> Create(int level);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // Compresses `src` into one zstd frame. The returned view points into this object's
  // buffer and is valid until the next Compress call or destruction.
  Result<std::string_view> Compress(std::string_view src);

 private:
  explicit ZstdCompressor(ZSTD_CCtx_s* ctx) : ctx_(ctx) {}

  ZSTD_CCtx_s* const ctx_;
  std::vector<char> buffer_;  // grows to the largest ZSTD_compressBound seen, never shrinks
};

class ZstdDecompressor {
 public:
  // Returns IOError if zstd cannot allocate its context.
  static Result<std::unique_ptr<ZstdDecompressor>> Create();
  ~ZstdDecompressor();
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  // Decompresses one frame that must hold exactly `raw_len` bytes. The output buffer is
  // sized from `raw_len` (the caller checks it against kMaxValueSize), never from the
  // frame's own header, so a damaged frame cannot make it allocate more. Returns
  // Corruption if the frame is invalid, fails its checksum, or has another length. The
  // view points into this object's buffer, valid until the next call or destruction.
  Result<std::string_view> Decompress(std::string_view frame, size_t raw_len);

 private:
  explicit ZstdDecompressor(ZSTD_DCtx_s* ctx) : ctx_(ctx) {}

  ZSTD_DCtx_s* const ctx_;
  std::vector<char> buffer_;
};

}  // namespace memento::snapshot
