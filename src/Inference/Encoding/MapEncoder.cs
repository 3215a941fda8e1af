using System.Buffers.Binary;
using SegServe.Inference.Decoding;
using SegServe.Inference.Masks;
using SegServe.Inference.Memory;

namespace SegServe.Inference.Encoding;

/// <summary>
/// Where a mask becomes bytes: class maps as greyscale PNGs of class indices (8-bit up to 256 classes, 16-bit above),
/// confidence maps as 8-bit greyscale PNGs.
/// </summary>
public static class MapEncoder
{
    /// <summary>Bit depth of the class-map PNG for a model with <paramref name="classCount"/> classes.</summary>
    public static int ClassMapBitDepth(int classCount) => classCount > 256 ? 16 : 8;

    /// <summary>Encodes the class map as a greyscale PNG whose pixel values are class indices.</summary>
    public static byte[] EncodeClassMap(ClassMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (ClassMapBitDepth(map.ClassCount) == 16)
        {
            return GreyPngWriter.Encode(map.Width, map.Height, 16, map.Classes, static (m, y, row) =>
            {
                ReadOnlySpan<ushort> source = m.Row(y);
                for (int x = 0; x < source.Length; x++)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(row[(2 * x)..], source[x]);
                }
            });
        }

        return GreyPngWriter.Encode(map.Width, map.Height, 8, map.Classes, static (m, y, row) =>
        {
            // Class ids below 256 in 16-bit storage: the low byte of each is the pixel.
            ReadOnlySpan<ushort> source = m.Row(y);
            for (int x = 0; x < source.Length; x++)
            {
                row[x] = (byte)source[x];
            }
        });
    }

    /// <summary>Encodes the confidence map (0–255 for probability 0–1) as an 8-bit greyscale PNG.</summary>
    public static byte[] EncodeConfidence(ClassMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        Plane<byte> confidence = map.Confidence ?? throw new InvalidOperationException("The class map was decoded without confidence.");
        return GreyPngWriter.Encode(map.Width, map.Height, 8, confidence, static (m, y, row) => m.Row(y).CopyTo(row));
    }

    /// <summary>The mask over its bounding rectangle as an 8-bit PNG (255 inside); null for an empty mask.</summary>
    public static (int X, int Y, int Width, int Height, byte[] Png)? EncodeCroppedMask(CocoRle mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.Bounds() is not (int x, int y, int w, int h))
        {
            return null;
        }

        byte[] pixels = new byte[w * h];
        mask.Fill<byte>(pixels, x, y, w, 255);
        byte[] png = GreyPngWriter.Encode(w, h, 8, (pixels, w), static (state, row, output) => state.pixels.AsSpan(row * state.w, state.w).CopyTo(output));
        return (x, y, w, h, png);
    }

    /// <summary>
    /// A 16-bit greyscale PNG of instance ids: pixel value <c>i</c> for the <c>i</c>-th mask (1-based, best first), 0 where
    /// none; where masks overlap, the better-scored (earlier) one wins.
    /// </summary>
    public static byte[] EncodeInstanceIds(IReadOnlyList<CocoRle> masks, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(masks);
        if (masks.Count > ushort.MaxValue)
        {
            throw new ArgumentException($"{masks.Count} instances do not fit a 16-bit PNG.", nameof(masks));
        }

        ushort[] ids = Memory.BufferPool.Rent<ushort>(height * width);
        try
        {
            Array.Clear(ids, 0, height * width);

            // Paint the worst first so that better-scored masks end on top.
            for (int i = masks.Count - 1; i >= 0; i--)
            {
                masks[i].Fill(ids.AsSpan(0, height * width), 0, 0, width, (ushort)(i + 1));
            }

            return GreyPngWriter.Encode(width, height, 16, (ids, width), static (state, y, row) =>
            {
                ReadOnlySpan<ushort> source = state.ids.AsSpan(y * state.width, state.width);
                for (int x = 0; x < source.Length; x++)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(row[(2 * x)..], source[x]);
                }
            });
        }
        finally
        {
            Memory.BufferPool.Return(ids);
        }
    }
}
