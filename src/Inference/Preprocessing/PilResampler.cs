using System.Buffers;
using System.Numerics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Preprocessing;

/// <summary>
/// Resizes 8-bit RGB exactly as Pillow's <c>Image.resize</c> does (<c>libImaging/Resample.c</c>): separable convolution,
/// the filter widened by the scale when shrinking (antialiasing), coefficients normalised and turned into 22-bit
/// fixed point, a horizontal pass then a vertical pass, each rounded and clipped to 8 bits. Most exporters' reference
/// pipelines (torchvision on PIL images, Hugging Face processors, detectron2's ResizeShortestEdge) resize with Pillow;
/// models trained and checked that way see the same pixels here, bit for bit.
/// </summary>
public static class PilResampler
{
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Pillow's BILINEAR (triangle, support 1) or BICUBIC (Keys, a = −0.5, support 2).</summary>
    public enum Filter
    {
        Bilinear,
        Bicubic,
    }

    public static Image<Rgb24> Resize(Image<Rgb24> source, int width, int height, Filter filter)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);

        (int[] xBounds, int[] xKernel, int xSize) = Coefficients(source.Width, width, filter);
        (int[] yBounds, int[] yKernel, int ySize) = Coefficients(source.Height, height, filter);

        // Horizontal pass into an intermediate of source height × new width (interleaved RGB bytes).
        int sourceHeight = source.Height;
        byte[] horizontal = ArrayPool<byte>.Shared.Rent(sourceHeight * width * 3);
        try
        {
            source.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height; y++)
                {
                    ReadOnlySpan<Rgb24> row = rows.GetRowSpan(y);
                    Span<byte> output = horizontal.AsSpan(y * width * 3, width * 3);
                    for (int x = 0; x < width; x++)
                    {
                        int min = xBounds[2 * x];
                        int count = xBounds[(2 * x) + 1];
                        ReadOnlySpan<int> k = xKernel.AsSpan(x * xSize, count);
                        int r = 1 << (PrecisionBits - 1), g = r, b = r;
                        for (int i = 0; i < count; i++)
                        {
                            Rgb24 p = row[min + i];
                            r += p.R * k[i];
                            g += p.G * k[i];
                            b += p.B * k[i];
                        }

                        output[3 * x] = Clip8(r);
                        output[(3 * x) + 1] = Clip8(g);
                        output[(3 * x) + 2] = Clip8(b);
                    }
                }
            });

            // Vertical pass row by row: each output row is the weighted sum of a few whole intermediate rows, summed
            // into integer accumulators (the same integer arithmetic as Pillow's, in a cache-friendly order).
            var result = new Image<Rgb24>(width, height);
            int stride = width * 3;
            int[] accumulator = ArrayPool<int>.Shared.Rent(stride);
            try
            {
                result.ProcessPixelRows(rows =>
                {
                    Span<int> sums = accumulator.AsSpan(0, stride);
                    for (int y = 0; y < height; y++)
                    {
                        int min = yBounds[2 * y];
                        int count = yBounds[(2 * y) + 1];
                        ReadOnlySpan<int> k = yKernel.AsSpan(y * ySize, count);
                        sums.Fill(1 << (PrecisionBits - 1));
                        for (int i = 0; i < count; i++)
                        {
                            AddWeightedRow(horizontal.AsSpan((min + i) * stride, stride), k[i], sums);
                        }

                        Span<byte> row = System.Runtime.InteropServices.MemoryMarshal.AsBytes(rows.GetRowSpan(y));
                        for (int j = 0; j < row.Length; j++)
                        {
                            row[j] = Clip8(sums[j]);
                        }
                    }
                });
            }
            finally
            {
                ArrayPool<int>.Shared.Return(accumulator);
            }

            return result;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(horizontal);
        }
    }

    /// <summary><c>sums[j] += source[j] · weight</c> over a row, a vector of bytes widened to ints at a time.</summary>
    private static void AddWeightedRow(ReadOnlySpan<byte> source, int weight, Span<int> sums)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated && source.Length >= Vector<byte>.Count)
        {
            var factor = new Vector<int>(weight);
            int ints = Vector<int>.Count;
            for (; j <= source.Length - Vector<byte>.Count; j += Vector<byte>.Count)
            {
                Vector.Widen(new Vector<byte>(source[j..]), out Vector<ushort> low, out Vector<ushort> high);
                Vector.Widen(low, out Vector<uint> a, out Vector<uint> b);
                Vector.Widen(high, out Vector<uint> c, out Vector<uint> d);
                Span<int> target = sums[j..];
                (new Vector<int>(target) + (Vector.AsVectorInt32(a) * factor)).CopyTo(target);
                (new Vector<int>(target[ints..]) + (Vector.AsVectorInt32(b) * factor)).CopyTo(target[ints..]);
                (new Vector<int>(target[(2 * ints)..]) + (Vector.AsVectorInt32(c) * factor)).CopyTo(target[(2 * ints)..]);
                (new Vector<int>(target[(3 * ints)..]) + (Vector.AsVectorInt32(d) * factor)).CopyTo(target[(3 * ints)..]);
            }
        }

        for (; j < source.Length; j++)
        {
            sums[j] += source[j] * weight;
        }
    }

    /// <summary>Pillow's <c>precompute_coeffs</c> + <c>normalize_coeffs_8bpc</c>: per output index, first source index, tap count, fixed-point taps.</summary>
    internal static (int[] Bounds, int[] Kernel, int KernelSize) Coefficients(int inSize, int outSize, Filter filter)
    {
        double support0 = filter == Filter.Bilinear ? 1.0 : 2.0;
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = support0 * filterScale;
        int kernelSize = ((int)Math.Ceiling(support) * 2) + 1;
        int[] bounds = new int[outSize * 2];
        int[] kernel = new int[outSize * kernelSize];
        double[] weights = new double[kernelSize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterScale;
            int xmin = Math.Max(0, (int)(center - support + 0.5));
            int xmax = Math.Min(inSize, (int)(center + support + 0.5)) - xmin;
            for (int x = 0; x < xmax; x++)
            {
                double w = Kernel(filter, (x + xmin - center + 0.5) * ss);
                weights[x] = w;
                ww += w;
            }

            for (int x = 0; x < xmax; x++)
            {
                double k = ww != 0.0 ? weights[x] / ww : weights[x];
                kernel[(xx * kernelSize) + x] = k < 0 ? (int)(-0.5 + (k * (1 << PrecisionBits))) : (int)(0.5 + (k * (1 << PrecisionBits)));
            }

            bounds[2 * xx] = xmin;
            bounds[(2 * xx) + 1] = xmax;
        }

        return (bounds, kernel, kernelSize);
    }

    private static double Kernel(Filter filter, double x)
    {
        x = Math.Abs(x);
        if (filter == Filter.Bilinear)
        {
            return x < 1.0 ? 1.0 - x : 0.0;
        }

        const double A = -0.5;
        return x < 1.0 ? (((A + 2.0) * x) - (A + 3.0)) * x * x + 1
            : x < 2.0 ? ((((x - 5) * x) + 8) * x - 4) * A
            : 0.0;
    }

    private static byte Clip8(int value)
    {
        int shifted = value >> PrecisionBits;
        return (byte)Math.Clamp(shifted, 0, 255);
    }
}
