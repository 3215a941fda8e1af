using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Tiff.Constants;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Tools.Hostile;

/// <summary>Small deterministic images in every format and odd variant the service reads.</summary>
internal static class SampleImages
{
    public static Image<Rgba32> Picture(int width, int height, int seed)
    {
        var random = new Random(seed);
        var image = new Image<Rgba32>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgba32> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    int noise = random.Next(32);
                    row[x] = new Rgba32((byte)((x * 255 / Math.Max(1, width - 1)) ^ noise), (byte)(y * 255 / Math.Max(1, height - 1)),
                        (byte)(128 + noise), (byte)(200 + (noise / 2)));
                }
            }
        });
        return image;
    }

    public static byte[] Encode(Image image, IImageEncoder encoder)
    {
        using var output = new MemoryStream();
        image.Save(output, encoder);
        return output.ToArray();
    }

    /// <summary>The base file of each format (the truncation and bit-flip sources): name, media type, bytes.</summary>
    public static List<(string Name, string MediaType, byte[] Data)> Bases(int seed)
    {
        using Image<Rgba32> picture = Picture(16, 12, seed);
        return
        [
            ("png", "image/png", Encode(picture, new PngEncoder())),
            ("jpeg", "image/jpeg", Encode(picture, new JpegEncoder { Quality = 80 })),
            ("gif", "image/gif", Encode(picture, new GifEncoder())),
            ("bmp", "image/bmp", Encode(picture, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 })),
            ("webp-lossy", "image/webp", Encode(picture, new WebpEncoder { FileFormat = WebpFileFormatType.Lossy })),
            ("webp-lossless", "image/webp", Encode(picture, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless })),
            ("tiff", "image/tiff", Encode(picture, new TiffEncoder { Compression = TiffCompression.Lzw })),
            ("tga", "image/x-tga", Encode(picture, new TgaEncoder { Compression = TgaCompression.RunLength })),
        ];
    }

    /// <summary>Every encoder variant worth a request: bit depths, colour types, interlacing, compressions, odd sizes.</summary>
    public static List<(string Name, string MediaType, byte[] Data)> Variants(int seed)
    {
        var list = new List<(string, string, byte[])>();
        using Image<Rgba32> picture = Picture(33, 17, seed);
        foreach (PngColorType color in new[] { PngColorType.Grayscale, PngColorType.GrayscaleWithAlpha, PngColorType.Rgb, PngColorType.RgbWithAlpha, PngColorType.Palette })
        {
            foreach (PngBitDepth depth in new[] { PngBitDepth.Bit1, PngBitDepth.Bit2, PngBitDepth.Bit4, PngBitDepth.Bit8, PngBitDepth.Bit16 })
            {
                if (!PngValid(color, depth))
                {
                    continue;
                }

                foreach (PngInterlaceMode interlace in new[] { PngInterlaceMode.None, PngInterlaceMode.Adam7 })
                {
                    list.Add(($"png-{color}-{depth}-{interlace}", "image/png",
                        Encode(picture, new PngEncoder { ColorType = color, BitDepth = depth, InterlaceMethod = interlace })));
                }
            }
        }

        foreach (JpegColorType color in new[] { JpegColorType.Luminance, JpegColorType.YCbCrRatio420, JpegColorType.YCbCrRatio444, JpegColorType.Rgb })
        {
            foreach (int quality in new[] { 1, 75, 100 })
            {
                list.Add(($"jpeg-{color}-q{quality}", "image/jpeg", Encode(picture, new JpegEncoder { ColorType = color, Quality = quality })));
            }
        }

        foreach (BmpBitsPerPixel bits in Enum.GetValues<BmpBitsPerPixel>())
        {
            list.Add(($"bmp-{bits}", "image/bmp", Encode(picture, new BmpEncoder { BitsPerPixel = bits })));
        }

        foreach (TiffCompression compression in new[] { TiffCompression.None, TiffCompression.Deflate, TiffCompression.Lzw, TiffCompression.PackBits })
        {
            foreach (TiffBitsPerPixel bits in new[] { TiffBitsPerPixel.Bit1, TiffBitsPerPixel.Bit8, TiffBitsPerPixel.Bit24 })
            {
                list.Add(($"tiff-{compression}-{bits}", "image/tiff", Encode(picture, new TiffEncoder { Compression = compression, BitsPerPixel = bits })));
            }
        }

        foreach (TgaBitsPerPixel bits in Enum.GetValues<TgaBitsPerPixel>())
        {
            foreach (TgaCompression compression in new[] { TgaCompression.None, TgaCompression.RunLength })
            {
                list.Add(($"tga-{bits}-{compression}", "image/x-tga", Encode(picture, new TgaEncoder { BitsPerPixel = bits, Compression = compression })));
            }
        }

        list.Add(("webp-lossy-q1", "image/webp", Encode(picture, new WebpEncoder { FileFormat = WebpFileFormatType.Lossy, Quality = 1 })));
        list.Add(("webp-lossless-alpha", "image/webp", Encode(picture, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless })));
        list.Add(("gif-2-colours", "image/gif", Encode(picture, new GifEncoder { ColorTableMode = GifColorTableMode.Local })));
        foreach ((int w, int h) in new[] { (1, 1), (1, 4000), (4000, 1), (2, 2), (7, 3001) })
        {
            using Image<Rgba32> odd = Picture(w, h, seed + w + h);
            list.Add(($"png-{w}x{h}", "image/png", Encode(odd, new PngEncoder())));
            list.Add(($"jpeg-{w}x{h}", "image/jpeg", Encode(odd, new JpegEncoder())));
        }

        list.Add(("gif-animated-3", "image/gif", Crafted.GifFrameBomb(8, 8, 3)));
        return list;
    }

    private static bool PngValid(PngColorType color, PngBitDepth depth) => color switch
    {
        PngColorType.Grayscale => true,
        PngColorType.Palette => depth is not PngBitDepth.Bit16,
        _ => depth is PngBitDepth.Bit8 or PngBitDepth.Bit16,
    };

    /// <summary>A JPEG carrying an EXIF orientation (any value, including the undefined ones).</summary>
    public static byte[] JpegWithOrientation(ushort orientation, int seed)
    {
        using Image<Rgba32> picture = Picture(24, 10, seed);
        picture.Metadata.ExifProfile = new ExifProfile();
        picture.Metadata.ExifProfile.SetValue(ExifTag.Orientation, orientation);
        return Encode(picture, new JpegEncoder());
    }

    public static byte[] PngWithOrientation(ushort orientation, int seed)
    {
        using Image<Rgba32> picture = Picture(24, 10, seed);
        picture.Metadata.ExifProfile = new ExifProfile();
        picture.Metadata.ExifProfile.SetValue(ExifTag.Orientation, orientation);
        return Encode(picture, new PngEncoder());
    }

    /// <summary>A greyscale label map (8-bit, or 16-bit when a value is over 255) of the given values, row-major.</summary>
    public static byte[] LabelMap(int width, int height, Func<int, int, int> value)
    {
        using var image = new Image<L16>(width, height);
        bool wide = false;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<L16> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    int v = value(x, y);
                    wide |= v > 255;
                    row[x] = new L16((ushort)v);
                }
            }
        });
        return Encode(image, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = wide ? PngBitDepth.Bit16 : PngBitDepth.Bit8 });
    }

    /// <summary>Patches the frame size of a JPEG's first SOFn marker.</summary>
    public static byte[] JpegDeclaring(byte[] jpeg, ushort width, ushort height)
    {
        byte[] copy = (byte[])jpeg.Clone();
        for (int i = 2; i + 9 < copy.Length; i++)
        {
            if (copy[i] == 0xFF && copy[i + 1] is >= 0xC0 and <= 0xC3)
            {
                copy[i + 5] = (byte)(height >> 8);
                copy[i + 6] = (byte)height;
                copy[i + 7] = (byte)(width >> 8);
                copy[i + 8] = (byte)width;
                return copy;
            }
        }

        throw new InvalidOperationException("no SOF marker");
    }

    /// <summary>Patches the size in a WebP's VP8 frame header or VP8L header (14 bits each).</summary>
    public static byte[] WebpDeclaring(byte[] webp, int width, int height)
    {
        byte[] copy = (byte[])webp.Clone();
        for (int i = 12; i + 8 < copy.Length; i++)
        {
            if (copy[i] == 'V' && copy[i + 1] == 'P' && copy[i + 2] == '8' && copy[i + 3] == ' ')
            {
                int start = i + 8 + 3; // chunk header, then the 3-byte frame tag
                if (copy[start] == 0x9D && copy[start + 1] == 0x01 && copy[start + 2] == 0x2A)
                {
                    copy[start + 3] = (byte)width;
                    copy[start + 4] = (byte)((width >> 8) & 0x3F);
                    copy[start + 5] = (byte)height;
                    copy[start + 6] = (byte)((height >> 8) & 0x3F);
                    return copy;
                }
            }

            if (copy[i] == 'V' && copy[i + 1] == 'P' && copy[i + 2] == '8' && copy[i + 3] == 'L')
            {
                int start = i + 8 + 1; // chunk header, signature 0x2F
                uint bits = (uint)(width - 1) | ((uint)(height - 1) << 14) | ((uint)copy[start + 3] & 0xF0u) << 24;
                copy[start] = (byte)bits;
                copy[start + 1] = (byte)(bits >> 8);
                copy[start + 2] = (byte)(bits >> 16);
                copy[start + 3] = (byte)(bits >> 24);
                return copy;
            }
        }

        throw new InvalidOperationException("no VP8/VP8L chunk");
    }
}
