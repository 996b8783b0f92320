#include "storage/snapshot/zstd_codec.h"

#include <zstd.h>

#include <string>

namespace memento::snapshot {
namespace {

std::string ZstdMessage(std::string_view what, size_t code) {
  std::string msg(what);
  msg += ": ";
  msg += ZSTD_getErrorName(code);
  return msg;
}

}  // namespace

Result<std::unique_ptr<ZstdCompressor>> ZstdCompressor::Create(int level) {
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  if (ctx == nullptr) return Status::IOError("zstd: cannot allocate a compression context");
  std::unique_ptr<ZstdCompressor> c(new ZstdCompressor(ctx));
  size_t r = ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level);
  if (ZSTD_isError(r)) {
    return Status::InvalidArgument(
        ZstdMessage("zstd compression level " + std::to_string(level), r));
  }
  r = ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, 1);
  if (ZSTD_isError(r)) return Status::IOError(ZstdMessage("zstd checksum flag", r));
  return c;
}

ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(ctx_); }

Result<std::string_view> ZstdCompressor::Compress(std::string_view src) {
  const size_t bound = ZSTD_compressBound(src.size());
  if (ZSTD_isError(bound))
    return Status::InvalidArgument(ZstdMessage("zstd compress bound", bound));
  if (buffer_.size() < bound) buffer_.resize(bound);
  const size_t n = ZSTD_compress2(ctx_, buffer_.data(), buffer_.size(), src.data(), src.size());
  if (ZSTD_isError(n)) return Status::IOError(ZstdMessage("zstd compress", n));
  return std::string_view(buffer_.data(), n);
}

Result<std::unique_ptr<ZstdDecompressor>> ZstdDecompressor::Create() {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return Status::IOError("zstd: cannot allocate a decompression context");
  return std::unique_ptr<ZstdDecompressor>(new ZstdDecompressor(ctx));
}

ZstdDecompressor::~ZstdDecompressor() { ZSTD_freeDCtx(ctx_); }

Result<std::string_view> ZstdDecompressor::Decompress(std::string_view frame, size_t raw_len) {
  // The frame header's content size is only compared, never used to size anything.
  const unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) {
    return Status::Corruption("zstd frame header is invalid or cut off");
  }
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != raw_len) {
    return Status::Corruption("zstd frame declares " + std::to_string(declared) +
                              " bytes, the record " + std::to_string(raw_len));
  }
  // At least one byte, so that data() is never null even for an empty value.
  if (buffer_.size() < raw_len || buffer_.empty()) buffer_.resize(raw_len + 1);
  const size_t n = ZSTD_decompressDCtx(ctx_, buffer_.data(), raw_len, frame.data(), frame.size());
  if (ZSTD_isError(n)) return Status::Corruption(ZstdMessage("zstd decompress", n));
  if (n != raw_len) {
    return Status::Corruption("zstd frame holds " + std::to_string(n) + " bytes, the record " +
                              std::to_string(raw_len));
  }
  return std::string_view(buffer_.data(), n);
}

}  // namespace memento::snapshot
