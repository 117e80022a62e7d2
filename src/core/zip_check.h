#pragma once
// Integrity check of a zip archive as LibTorch writes them (torch::save, OutputArchive): every
// record's CRC-32 against the one its central directory entry holds. LibTorch 1.13 reads
// records without checking their CRCs, and its TorchScript importer can crash (SIGSEGV) on a
// damaged record, so winnow checks a file it wrote before handing it to torch::load.
#include <string>

namespace winnow::detail {

// Throws winnow::Error naming `path` and the first damaged record (or the broken structure:
// no end-of-archive record, a directory entry or local header out of place, a truncated
// record) unless every stored or deflated record reads back with its CRC-32 and size.
void check_zip_archive(const std::string& path, const std::string& what = "archive");

}  // namespace winnow::detail
