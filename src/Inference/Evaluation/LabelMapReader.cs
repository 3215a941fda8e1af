using System.Buffers.Binary;
using SegServe.Inference.Imaging;
using SegServe.Inference.Memory;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Evaluation;

/// <summary>
/// Reads label maps from PNG files: greyscale 8- or 16-bit (pixel value = label), palette PNGs by palette index (as
/// VOC and Cityscapes ship them), and RGB colour-coded PNGs through a palette that maps colours to labels. A label map
/// is a <see cref="Plane{T}"/> of <see cref="ushort"/>: PNG samples are at most 16-bit, so every label fits, and a
/// model's class map (also <see cref="ushort"/>) is scored against it without a conversion.
/// </summary>
public static class LabelMapReader
{
    /// <summary>
    /// The width × height a PNG's header declares (its first chunk, IHDR), for budgeting before it is read; 0 when the
    /// bytes do not start as a PNG does (the read then says what is wrong).
    /// </summary>
    public static long DeclaredPixels(ReadOnlySpan<byte> png)
    {
        if (png.Length < 24 || !png[..8].SequenceEqual(PngSignature) || !png[12..16].SequenceEqual("IHDR"u8))
        {
            return 0;
        }

        return (long)BinaryPrimitives.ReadUInt32BigEndian(png[16..20]) * BinaryPrimitives.ReadUInt32BigEndian(png[20..24]);
    }

    /// <summary>Reads <paramref name="png"/>; <paramref name="palette"/> maps colours to labels for RGB files.</summary>
    /// <param name="png">The file.</param>
    /// <param name="name">How to call the file in messages (e.g. <c>groundTruth</c>).</param>
    /// <param name="palette">Colour of each label (index = label), for colour-coded files; null when none was given.</param>
    /// <param name="maxPixels">Largest accepted image.</param>
    /// <exception cref="EvaluationInputException">The file is not a PNG label map, a colour is not in the palette, or the palette has more colours than labels fit in 16 bits.</exception>
    public static Plane<ushort> Read(ReadOnlyMemory<byte> png, string name, IReadOnlyList<Rgb24>? palette, long maxPixels)
    {
        ReadOnlySpan<byte> bytes = png.Span;
        if (bytes.Length < 8 || !bytes[..8].SequenceEqual(PngSignature))
        {
            throw new EvaluationInputException($"{name} is not a PNG file: label maps must be PNG (greyscale 8/16-bit, palette, or RGB with a palette parameter).", unreadable: true);
        }

        IImageInfo info;
        try
        {
            using Stream stream = ImageDecoder.AsStream(png);
            info = Image.Identify(s_png, stream) ?? throw new EvaluationInputException($"{name} is not a readable PNG.", unreadable: true);
        }
        catch (Exception ex) when (ImageDecoder.IsDecodeFailure(ex))
        {
            throw new EvaluationInputException($"{name} is not a readable PNG: {ex.Message}", unreadable: true);
        }

        if ((long)info.Width * info.Height > maxPixels)
        {
            throw new EvaluationInputException($"{name} is {info.Width}×{info.Height}, more than the limit of {maxPixels} pixels.");
        }

        PngMetadata metadata = info.Metadata.GetPngMetadata();
        try
        {
            return metadata.ColorType switch
            {
                PngColorType.Grayscale or PngColorType.GrayscaleWithAlpha => ReadGrey(png, metadata.BitDepth ?? PngBitDepth.Bit8),
                PngColorType.Palette => ReadByColour(png, name, ReadPlte(bytes, name), "its own palette (PLTE)"),
                _ => palette is { Count: > 0 }
                    ? ReadByColour(png, name, palette, "the palette parameter")
                    : throw new EvaluationInputException(
                        $"{name} is a colour PNG: give the palette parameter (comma-separated #rrggbb, one per label in order, or 'voc') to map its colours to labels, or send a greyscale PNG of label indices."),
            };
        }
        catch (Exception ex) when (ImageDecoder.IsDecodeFailure(ex))
        {
            throw new EvaluationInputException($"{name} could not be decoded: {ex.Message}", unreadable: true);
        }
    }

    // PNG only, metadata ignored: a label map's text chunks are not inflated (a 199 KB zTXt of 200 MB took seconds).
    private static readonly Configuration s_png = PngOnly();

    /// <summary>Labels a label map can hold: 0–65535, the range of a 16-bit PNG.</summary>
    private const int MaxLabels = ushort.MaxValue + 1;

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static Plane<ushort> ReadGrey(ReadOnlyMemory<byte> png, PngBitDepth bitDepth)
    {
        if (bitDepth == PngBitDepth.Bit16)
        {
            using Image<L16> image16 = Image.Load<L16>(s_png, ImageDecoder.AsStream(png));
            var map16 = new Plane<ushort>(image16.Width, image16.Height);
            image16.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height; y++)
                {
                    Span<L16> source = rows.GetRowSpan(y);
                    Span<ushort> destination = map16.Row(y);
                    for (int x = 0; x < source.Length; x++)
                    {
                        destination[x] = source[x].PackedValue;
                    }
                }
            });
            return map16;
        }

        // Below 8 bits ImageSharp scales samples to 0–255 (1-bit: 0 and 255); undo it to get the stored values back.
        int bits = bitDepth switch { PngBitDepth.Bit1 => 1, PngBitDepth.Bit2 => 2, PngBitDepth.Bit4 => 4, _ => 8 };
        int step = 255 / ((1 << bits) - 1);
        using Image<L8> image = Image.Load<L8>(s_png, ImageDecoder.AsStream(png));
        var map = new Plane<ushort>(image.Width, image.Height);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<L8> source = rows.GetRowSpan(y);
                Span<ushort> destination = map.Row(y);
                for (int x = 0; x < source.Length; x++)
                {
                    destination[x] = (ushort)(source[x].PackedValue / step);
                }
            }
        });
        return map;
    }

    private static Plane<ushort> ReadByColour(ReadOnlyMemory<byte> png, string name, IReadOnlyList<Rgb24> palette, string paletteSource)
    {
        if (palette.Count > MaxLabels)
        {
            throw new EvaluationInputException(
                $"{name} cannot be read through {paletteSource}: it lists {palette.Count} colours, more than the {MaxLabels} labels a label map can hold (labels are 16-bit).");
        }

        var labelOf = new Dictionary<Rgb24, int>(palette.Count);
        for (int i = 0; i < palette.Count; i++)
        {
            // The first label of a colour wins (PNG palettes may repeat unused entries, often black).
            labelOf.TryAdd(palette[i], i);
        }

        using Image<Rgb24> image = Image.Load<Rgb24>(s_png, ImageDecoder.AsStream(png));
        var map = new Plane<ushort>(image.Width, image.Height);
        string? unknown = null;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height && unknown is null; y++)
            {
                Span<Rgb24> source = rows.GetRowSpan(y);
                Span<ushort> destination = map.Row(y);
                Rgb24 last = default;
                int lastLabel = -1;
                for (int x = 0; x < source.Length; x++)
                {
                    Rgb24 colour = source[x];
                    if (lastLabel < 0 || !colour.Equals(last))
                    {
                        if (!labelOf.TryGetValue(colour, out lastLabel))
                        {
                            unknown = $"{name} has colour #{colour.R:x2}{colour.G:x2}{colour.B:x2} at pixel ({x}, {y}), which is not in {paletteSource}.";
                            break;
                        }

                        last = colour;
                    }

                    // The palette was checked to have at most MaxLabels colours, so every label fits.
                    destination[x] = (ushort)lastLabel;
                }
            }
        });

        if (unknown is not null)
        {
            map.Dispose();
            throw new EvaluationInputException(unknown);
        }

        return map;
    }

    /// <summary>The palette of a palette PNG, read from its PLTE chunk.</summary>
    private static Rgb24[] ReadPlte(ReadOnlySpan<byte> png, string name)
    {
        int offset = 8;
        while (offset + 12 <= png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png[offset..]);
            ReadOnlySpan<byte> type = png.Slice(offset + 4, 4);
            if (length < 0 || offset + 12 + length > png.Length)
            {
                break;
            }

            if (type.SequenceEqual("PLTE"u8))
            {
                ReadOnlySpan<byte> data = png.Slice(offset + 8, length);
                var palette = new Rgb24[length / 3];
                for (int i = 0; i < palette.Length; i++)
                {
                    palette[i] = new Rgb24(data[3 * i], data[(3 * i) + 1], data[(3 * i) + 2]);
                }

                return palette;
            }

            if (type.SequenceEqual("IDAT"u8))
            {
                break;
            }

            offset += 12 + length;
        }

        throw new EvaluationInputException($"{name} is a palette PNG without a readable PLTE chunk.", unreadable: true);
    }

    private static Configuration PngOnly()
    {
        var configuration = new Configuration(new PngConfigurationModule()) { MemoryAllocator = Imaging.ImagingMemory.Shared };
        configuration.ImageFormatsManager.SetDecoder(PngFormat.Instance, new PngDecoder { IgnoreMetadata = true });
        return configuration;
    }
}
