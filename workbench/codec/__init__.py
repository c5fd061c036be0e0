"""The codec of ``workbench compress`` / ``decompress``: the self-describing file of a
Huffman-coded array (:mod:`workbench.codec.container`) and the weight compressor that fills it
(:mod:`workbench.codec.weights`); both readers check every field of a file before allocating
(:mod:`workbench.codec.checks`). The coding kernels themselves (code lengths, bit packing,
lanes) are :mod:`numerics.huffman` and :mod:`numerics.bitstream`."""

from numerics.bitstream import FormatError

from .container import MAGIC, Encoded
from .weights import BITS, compress_weights, decompress_weights, dequantize, quantize, weight_report

__all__ = ["BITS", "MAGIC", "Encoded", "FormatError", "compress_weights", "decompress_weights", "dequantize", "quantize",
           "weight_report"]
