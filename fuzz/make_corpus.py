#!/usr/bin/python3
"""Writes the seed corpora in fuzz/corpus/<target>/: small valid inputs in each harness's input
layout (see the comment at the top of each fuzz/fuzz_<target>.cpp). Deterministic; run it again
after changing a layout. Needs Debian's python3-numpy, and cc with libstb-dev for the JPEG/TGA
seeds. The state_archive seeds come from the harness itself (a valid checkpoint of its method):
  WINNOW_FUZZ_WRITE_SEEDS=fuzz/corpus/state_archive build-asan/fuzz/fuzz_state_archive -runs=0
"""
import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib

import numpy as np

ROOT = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(ROOT, "corpus")
REPO = os.path.dirname(ROOT)


def put(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def gz(data):
    # mtime 0: the same bytes on every run.
    return gzip.compress(data, mtime=0)


def split_input(mode, first, second):
    return bytes([mode]) + struct.pack("<H", len(first)) + first + second


def npy(array, version=None):
    out = io.BytesIO()
    if version is None:
        np.save(out, array)
    else:
        np.lib.format.write_array(out, array, version=version)
    return out.getvalue()


# ---- IDX: <mode><split u16><images><labels>
def idx_images(n, h, w):
    pixels = bytes((i * 37) % 256 for i in range(n * h * w))
    return struct.pack(">IIII", 0x803, n, h, w) + pixels


def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


put("idx", "two_2x3", split_input(0, idx_images(2, 2, 3), idx_labels([1, 0])))
put("idx", "two_classes", split_input(1, idx_images(3, 1, 1), idx_labels([0, 1, 1])))
put("idx", "gzip", split_input(0, gz(idx_images(2, 2, 2)), gz(idx_labels([9, 3]))))
put("idx", "empty_set", split_input(0, idx_images(0, 4, 4), idx_labels([])))

# ---- CIFAR: <mode><records>
record10 = bytes([3]) + bytes((i * 7) % 256 for i in range(3072))
put("cifar", "cifar10_one", bytes([0]) + record10)
record100 = bytes([4, 57]) + bytes((i * 11) % 256 for i in range(3072))
put("cifar", "cifar100_fine_two_files", bytes([1 | 2 | 4]) + record100)

# ---- CSV: <options byte><file>; options 0 = the defaults
put("csv", "header_auto", bytes([0]) + b"f1,f2,label\n0.5,1,0\n2,3e-1,1\n-1,+4,1\n")
put("csv", "no_header_semicolon", bytes([1 | (2 << 2)]) + b"1;2;0\n3;4;1\n\n5.5;6;2\r\n")
put("csv", "tab_first_column", bytes([2 | (1 << 4)]) + b"0\t0.25\t1\n1\t1e3\t-2\n")
put("csv", "named_label_quoted", bytes([3 << 4]) + b'"a","label","b"\n"1","0","2"\n"3","1","4"\n')
put("csv", "features_only", bytes([0x80]) + b"1,2,3\n4,5,6\n")
put("csv", "three_classes", bytes([0x40]) + b"x,y\n1,0\n2,2\n")

# ---- NPY: <mode><split u16><features .npy><labels>
features = np.arange(6, dtype="<f4").reshape(3, 2) / 4
put("npy", "f4_text_labels", split_input(0, npy(features), b"0\n1\n1\n"))
put("npy", "f8_npy_labels", split_input(2, npy(features.astype("<f8")), npy(np.array([1, 0, 1], "<i8"))))
put("npy", "u1_images_npy_f4_labels",
    split_input(2 | (2 << 2), npy(np.arange(2 * 3 * 3, dtype="u1").reshape(2, 3, 3)),
                npy(np.array([3.0, 7.0], "<f4"))))
put("npy", "i4_version2", split_input(0, npy(np.array([[1, 2], [3, 4]], "<i4"), version=(2, 0)), b"1\n0\n"))
put("npy", "i8_features_only", split_input(1, npy(np.array([[5, -6, 7]], "<i8")), b""))
put("npy", "i4_labels_npy_2d", split_input(2, npy(features), npy(np.array([[0], [1], [0]], "<i4"))))
put("npy", "gzip_features", split_input(0, gz(npy(features)), b"1\n1\n0\n"))

# ---- Label files: <mode><sample count><file>
put("label_file", "text", bytes([0, 4]) + b"0\n1\n1\n0\n")
put("label_file", "text_crlf_blank", bytes([0 | (2 << 2), 3]) + b"9\r\n\r\n2\r\n5\r\n")
put("label_file", "npy_i8", bytes([1 | 16, 3]) + npy(np.array([2, 0, 1], "<i8")))
put("label_file", "npy_f8_integral", bytes([1 | (1 << 2), 2]) + npy(np.array([1.0, 2.0], "<f8")))
put("label_file", "npy_gz_u1", bytes([2 | (3 << 2), 2]) + gz(npy(np.array([200, 7], "u1"))))

# ---- Config: TOML, then NUL-separated --set overrides
for name in ("demo.toml", "dividemix.toml", "coteaching.toml", "own_labels.toml", "cdr.toml"):
    with open(os.path.join(REPO, "configs", name), "rb") as f:
        put("config", name.replace(".toml", ""), f.read())
put("config", "overrides",
    b"[train]\nepochs = 2\n[model]\nname = 'mlp'\n\0train.epochs=3\0model.hidden=[8, 8]\0data.path=some file"
    b"\0noise.rate=auto\0optim.lr = 1e-3")
put("config", "types",
    b"[data]\nformat = 'csv'\nnames = ['a', \"b\"]\n[optim]\nlr = 0.1\n[method]\nforget_rates = [0.1, 1]\n"
    b"[train]\ndeterministic = true\npatience = 4\n[x.y]\nz = -inf\nw = nan\nt = 1979-05-27\n")

# ---- Checkpoint record: trainer.json, optionally NUL and timing.json
trainer = {"format": 1, "winnow_version": "0.1.0", "epochs_done": 1, "state_file": "state-000001.pt",
           "samples_trained": 32, "stopped_early": False,
           "metrics": [{"epoch": 1, "train_loss": 0.5, "test_accuracy": None}]}
put("checkpoint_json", "trainer", json.dumps(trainer, indent=1) + "\n")
timing = {"train_seconds": 0.25, "epochs": [{"epoch_seconds": 0.1}, {"epoch_seconds": 0.15}]}
put("checkpoint_json", "trainer_and_timing", json.dumps(trainer) + "\n\0" + json.dumps(timing) + "\n")
old = dict(trainer, train_seconds=1.5)
put("checkpoint_json", "trainer_with_seconds", json.dumps(old) + "\0{}")

# ---- Image folders: <mode><image bytes or list file>
def png(width, height, rows, color=0):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def bmp_rgb(width, height):
    stride = (width * 3 + 3) // 4 * 4
    pixels = b"".join(bytes((x * 40 + y * 90 + c * 20) % 256 for x in range(width) for c in range(3)).ljust(stride, b"\0")
                      for y in range(height))
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info) + len(pixels), 0, 0, 14 + len(info)) + info + pixels


EXT = {"png": 0, "jpg": 1, "bmp": 2, "gif": 3, "tga": 4, "pgm": 5, "ppm": 6, "jpeg": 7}
put("image_folder", "png_grey", bytes([0]) + png(2, 2, [b"\x00\xff", b"\x80\x40"]))
put("image_folder", "png_rgb_listed", bytes([1]) + png(2, 2, [b"\x10\x20\x30\x40\x50\x60"] * 2, color=2))
put("image_folder", "bmp_rgb_channels1", bytes([(EXT["bmp"] << 2) | (1 << 6)]) + bmp_rgb(2, 2))
put("image_folder", "pgm", bytes([EXT["pgm"] << 2]) + b"P5\n2 2\n255\n\x01\x02\x03\x04")
put("image_folder", "ppm_resized", bytes([1 | (EXT["ppm"] << 2) | 32]) + b"P6\n1 1\n255\n\x10\x20\x30")
gif = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
       b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
put("image_folder", "gif_resized", bytes([(EXT["gif"] << 2) | 32]) + gif)
put("image_folder", "list_integers", bytes([2]) + b"a.png 0\nb.bmp 1\nsub/c.png 1\n")
put("image_folder", "list_names", bytes([3 | (3 << 6)]) + b"# cats and dogs\nsub/c.png, cat\n\nok.png\tdog\r\n")
put("image_folder", "list_resized", bytes([2 | 32]) + b"big.png 0\na.png 1\n")

# JPEG and TGA through stb_image_write (libstb-dev), which the build uses anyway.
with tempfile.TemporaryDirectory() as tmp:
    source = os.path.join(tmp, "write.c")
    with open(source, "w") as f:
        f.write("#include <stb/stb_image_write.h>\n"
                "int main(int argc, char** argv) {\n"
                "  unsigned char p[2 * 2 * 3];\n"
                "  for (int i = 0; i < 12; ++i) p[i] = (unsigned char)(i * 21);\n"
                "  return !(stbi_write_jpg(argv[1], 2, 2, 3, p, 90) && stbi_write_tga(argv[2], 2, 2, 3, p));\n"
                "}\n")
    binary = os.path.join(tmp, "write")
    subprocess.run(["cc", source, "-o", binary, "-lstb", "-lm"], check=True)
    jpg, tga = os.path.join(tmp, "x.jpg"), os.path.join(tmp, "x.tga")
    subprocess.run([binary, jpg, tga], check=True)
    with open(jpg, "rb") as f:
        put("image_folder", "jpg", bytes([EXT["jpg"] << 2]) + f.read())
    with open(tga, "rb") as f:
        put("image_folder", "tga_listed", bytes([1 | (EXT["tga"] << 2)]) + f.read())

print("corpora in", CORPUS)
