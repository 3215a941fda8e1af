using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SegServe.Inference.Geometry;
using SegServe.Inference.Memory;
using SegServe.Inference.Models;
using SegServe.Inference.Preprocessing;

namespace SegServe.Inference.Decoding;

/// <summary>What a caller may choose when decoding a semantic output.</summary>
/// <param name="Upsample">Resampler for scores; class-index outputs always use nearest.</param>
/// <param name="Threshold">Foreground threshold for sigmoid outputs.</param>
/// <param name="IncludeConfidence">Also compute the per-pixel confidence map.</param>
public readonly record struct SemanticDecodeOptions(Interpolation Upsample, float Threshold, bool IncludeConfidence);

/// <summary>
/// Where a tensor becomes a mask: the model's scores for one image are cropped to the image's content (padding and
/// letterbox undone), resampled to the original size, and reduced to one class per pixel — row by row, so the
/// full-resolution score volume (classes × height × width) is never materialised.
/// </summary>
public static class SemanticDecoder
{
    /// <summary>Decodes float scores <c>[C, H, W]</c> (logits, probabilities, or a single sigmoid channel).</summary>
    public static ClassMap DecodeScores(
        ReadOnlySpan<float> scores,
        int channels,
        int outputHeight,
        int outputWidth,
        InputGeometry geometry,
        OutputKind kind,
        int classCount,
        SemanticDecodeOptions options)
    {
        if (scores.Length != channels * outputHeight * outputWidth)
        {
            throw new ArgumentException($"Scores hold {scores.Length} values, not {channels}×{outputHeight}×{outputWidth}.", nameof(scores));
        }

        int width = geometry.OriginalWidth;
        int height = geometry.OriginalHeight;
        using AxisSampling xs = CreateSampling(options.Upsample, outputWidth, geometry.InputWidth, geometry.ContentX, geometry.ContentWidth, width);
        using AxisSampling ys = CreateSampling(options.Upsample, outputHeight, geometry.InputHeight, geometry.ContentY, geometry.ContentHeight, height);

        var map = new ClassMap(width, height, classCount, options.IncludeConfidence);
        Plane<byte>? confidence = map.Confidence;
        int span = xs.MaxIndex - xs.MinIndex + 1;
        float[] columnBuffer = ArrayPool<float>.Shared.Rent(span);
        float[] best = ArrayPool<float>.Shared.Rent(width);
        float[] sum = ArrayPool<float>.Shared.Rent(width);
        float[] value = ArrayPool<float>.Shared.Rent(width);
        try
        {
            int plane = outputHeight * outputWidth;
            for (int y = 0; y < height; y++)
            {
                Span<ushort> classRow = map.Classes.Row(y);
                for (int c = 0; c < channels; c++)
                {
                    ReadOnlySpan<float> channel = scores.Slice(c * plane, plane);
                    // Channel 0 lands straight in the running maximum; later channels are compared against it.
                    Span<float> destination = c == 0 ? best.AsSpan(0, width) : value.AsSpan(0, width);
                    ResampleRow(channel, outputWidth, ys, y, xs, columnBuffer.AsSpan(0, span), destination);
                    Accumulate(c, kind, value.AsSpan(0, width), best.AsSpan(0, width), sum.AsSpan(0, width), classRow);
                }

                Finish(kind, options, best.AsSpan(0, width), sum.AsSpan(0, width), classRow, confidence is null ? [] : confidence.Row(y));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(columnBuffer);
            ArrayPool<float>.Shared.Return(best);
            ArrayPool<float>.Shared.Return(sum);
            ArrayPool<float>.Shared.Return(value);
        }

        map.CountPixels();
        return map;
    }

    /// <summary>
    /// The probability of one class per pixel at the original size, for compositing (portrait effects). The class's
    /// probability is formed at the model's resolution first — softmax over logits, the channel itself for
    /// probabilities, <c>p</c> or <c>1 − p</c> for a sigmoid channel, 0 or 1 for class indices — and then upsampled
    /// bilinearly, so a soft edge of a few output pixels becomes a feathered edge in the photo. The result holds 0–255
    /// for probability 0–1, in a pooled plane the caller disposes.
    /// </summary>
    public static Plane<byte> DecodeForeground<TScore>(
        ReadOnlySpan<TScore> scores,
        int channels,
        int outputHeight,
        int outputWidth,
        InputGeometry geometry,
        OutputKind kind,
        int classId)
        where TScore : unmanaged, System.Numerics.INumberBase<TScore>
    {
        int plane = outputHeight * outputWidth;
        if (scores.Length != channels * plane)
        {
            throw new ArgumentException($"Scores hold {scores.Length} values, not {channels}×{outputHeight}×{outputWidth}.", nameof(scores));
        }

        int channelOfClass = kind is OutputKind.Sigmoid or OutputKind.ClassIndices ? 0 : classId;
        if ((uint)channelOfClass >= (uint)channels)
        {
            throw new ArgumentOutOfRangeException(nameof(classId), $"Class {classId} has no channel among the output's {channels}.");
        }

        float[] probability = ArrayPool<float>.Shared.Rent(plane);
        try
        {
            Span<float> p = probability.AsSpan(0, plane);
            ClassProbability(scores, channels, plane, kind, classId, p);

            int width = geometry.OriginalWidth;
            int height = geometry.OriginalHeight;
            using AxisSampling xs = CreateSampling(Interpolation.Bilinear, outputWidth, geometry.InputWidth, geometry.ContentX, geometry.ContentWidth, width);
            using AxisSampling ys = CreateSampling(Interpolation.Bilinear, outputHeight, geometry.InputHeight, geometry.ContentY, geometry.ContentHeight, height);
            var mask = new Plane<byte>(width, height);
            int span = xs.MaxIndex - xs.MinIndex + 1;
            float[] columnBuffer = ArrayPool<float>.Shared.Rent(span);
            float[] row = ArrayPool<float>.Shared.Rent(width);
            try
            {
                for (int y = 0; y < height; y++)
                {
                    ResampleRow(p, outputWidth, ys, y, xs, columnBuffer.AsSpan(0, span), row.AsSpan(0, width));
                    Span<byte> alpha = mask.Row(y);
                    for (int x = 0; x < alpha.Length; x++)
                    {
                        alpha[x] = ToByte(row[x]);
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(columnBuffer);
                ArrayPool<float>.Shared.Return(row);
            }

            return mask;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(probability);
        }
    }

    /// <summary>The probability of <paramref name="classId"/> at the model's resolution.</summary>
    private static void ClassProbability<TScore>(ReadOnlySpan<TScore> scores, int channels, int plane, OutputKind kind, int classId, Span<float> probability)
        where TScore : unmanaged, System.Numerics.INumberBase<TScore>
    {
        switch (kind)
        {
            case OutputKind.ClassIndices:
                var target = TScore.CreateTruncating(classId);
                for (int i = 0; i < plane; i++)
                {
                    probability[i] = scores[i] == target ? 1f : 0f;
                }

                return;

            case OutputKind.Sigmoid:
                // One channel holding the probability of class 1.
                for (int i = 0; i < plane; i++)
                {
                    float v = Math.Clamp(float.CreateTruncating(scores[i]), 0f, 1f);
                    probability[i] = classId == 1 ? v : 1f - v;
                }

                return;

            case OutputKind.Probabilities:
                for (int i = 0; i < plane; i++)
                {
                    probability[i] = Math.Clamp(float.CreateTruncating(scores[(classId * plane) + i]), 0f, 1f);
                }

                return;

            default:
                // Softmax, channel by channel over the plane: first the maximum (for stability), then the denominator.
                Span<float> max = probability;
                max.Fill(float.NegativeInfinity);
                for (int c = 0; c < channels; c++)
                {
                    ReadOnlySpan<TScore> channel = scores.Slice(c * plane, plane);
                    for (int i = 0; i < plane; i++)
                    {
                        max[i] = MathF.Max(max[i], float.CreateTruncating(channel[i]));
                    }
                }

                float[] denominator = ArrayPool<float>.Shared.Rent(plane);
                try
                {
                    Span<float> sum = denominator.AsSpan(0, plane);
                    sum.Clear();
                    for (int c = 0; c < channels; c++)
                    {
                        ReadOnlySpan<TScore> channel = scores.Slice(c * plane, plane);
                        for (int i = 0; i < plane; i++)
                        {
                            sum[i] += MathF.Exp(float.CreateTruncating(channel[i]) - max[i]);
                        }
                    }

                    ReadOnlySpan<TScore> own = scores.Slice(classId * plane, plane);
                    for (int i = 0; i < plane; i++)
                    {
                        probability[i] = MathF.Exp(float.CreateTruncating(own[i]) - max[i]) / sum[i];
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(denominator);
                }

                return;
        }
    }

    /// <summary>
    /// Decodes class indices <c>[H, W]</c> computed inside the graph. Indices can only be resized by nearest
    /// neighbour: interpolating labels would invent classes between them.
    /// </summary>
    public static ClassMap DecodeIndices<TIndex>(
        ReadOnlySpan<TIndex> indices,
        int outputHeight,
        int outputWidth,
        InputGeometry geometry,
        int classCount)
        where TIndex : unmanaged, System.Numerics.IBinaryInteger<TIndex>
    {
        if (indices.Length != outputHeight * outputWidth)
        {
            throw new ArgumentException($"Indices hold {indices.Length} values, not {outputHeight}×{outputWidth}.", nameof(indices));
        }

        int width = geometry.OriginalWidth;
        int height = geometry.OriginalHeight;
        using AxisSampling xs = CreateSampling(Interpolation.Nearest, outputWidth, geometry.InputWidth, geometry.ContentX, geometry.ContentWidth, width);
        using AxisSampling ys = CreateSampling(Interpolation.Nearest, outputHeight, geometry.InputHeight, geometry.ContentY, geometry.ContentHeight, height);
        var map = new ClassMap(width, height, classCount, withConfidence: false);
        ReadOnlySpan<int> columns = xs.Indices;
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<TIndex> source = indices.Slice(ys.Indices[y] * outputWidth, outputWidth);
            Span<ushort> row = map.Classes.Row(y);
            for (int x = 0; x < row.Length; x++)
            {
                long id = long.CreateTruncating(source[columns[x]]);
                if ((ulong)id >= (ulong)classCount)
                {
                    map.Dispose();
                    throw new ModelOutputException($"The model produced class index {id}, outside 0–{classCount - 1} of the manifest's classes.");
                }

                row[x] = (ushort)id;
            }
        }

        map.CountPixels();
        return map;
    }

    private static AxisSampling CreateSampling(Interpolation method, int outputLength, int inputLength, int contentStart, int contentLength, int originalLength)
    {
        // The output may be smaller than the input (e.g. stride-4 heads): map the content window into output pixels.
        double scale = (double)outputLength / inputLength;
        return AxisSampling.Create(method, outputLength, contentStart * scale, contentLength * scale, originalLength);
    }

    /// <summary>One output row of one channel: vertical taps into a column buffer, then horizontal taps.</summary>
    private static void ResampleRow(
        ReadOnlySpan<float> channel,
        int outputWidth,
        AxisSampling ys,
        int y,
        AxisSampling xs,
        Span<float> columns,
        Span<float> destination)
    {
        int firstColumn = xs.MinIndex;
        int rowTaps = ys.Taps;
        ReadOnlySpan<int> rowIndices = ys.Indices.Slice(y * rowTaps, rowTaps);
        ReadOnlySpan<float> rowWeights = ys.Weights.Slice(y * rowTaps, rowTaps);

        // Vertical taps over whole rows: contiguous, so vectorised (TensorPrimitives uses the widest SIMD available).
        ReadOnlySpan<float> first = channel.Slice((rowIndices[0] * outputWidth) + firstColumn, columns.Length);
        float w0 = rowWeights[0];
        if (w0 != 1f)
        {
            TensorPrimitives.Multiply(first, w0, columns);
        }
        else
        {
            first.CopyTo(columns);
        }

        for (int k = 1; k < rowTaps; k++)
        {
            float w = rowWeights[k];
            if (w == 0f)
            {
                continue;
            }

            ReadOnlySpan<float> source = channel.Slice((rowIndices[k] * outputWidth) + firstColumn, columns.Length);
            TensorPrimitives.MultiplyAdd(source, w, columns, columns);
        }

        int taps = xs.Taps;
        ReadOnlySpan<int> indices = xs.Indices;
        ReadOnlySpan<float> weights = xs.Weights;
        if (taps == 1)
        {
            for (int x = 0; x < destination.Length; x++)
            {
                destination[x] = columns[indices[x] - firstColumn];
            }

            return;
        }

        if (taps == 2)
        {
            // Bilinear: the common case, unrolled. The taps were built inside the column window (AxisSampling clamps
            // them), so the reads need no bounds checks: walk the spans by reference, as ImageSharp's resamplers do.
            ref float column0 = ref Unsafe.Subtract(ref MemoryMarshal.GetReference(columns), firstColumn);
            ref int index = ref MemoryMarshal.GetReference(indices);
            ref float weight = ref MemoryMarshal.GetReference(weights);
            ref float output = ref MemoryMarshal.GetReference(destination);
            for (int x = 0; x < destination.Length; x++)
            {
                int t = 2 * x;
                Unsafe.Add(ref output, x) =
                    (Unsafe.Add(ref weight, t) * Unsafe.Add(ref column0, Unsafe.Add(ref index, t)))
                    + (Unsafe.Add(ref weight, t + 1) * Unsafe.Add(ref column0, Unsafe.Add(ref index, t + 1)));
            }

            return;
        }

        for (int x = 0, t = 0; x < destination.Length; x++, t += taps)
        {
            float v = 0f;
            for (int k = 0; k < taps; k++)
            {
                v += weights[t + k] * columns[indices[t + k] - firstColumn];
            }

            destination[x] = v;
        }
    }

    private static void Accumulate(int channel, OutputKind kind, ReadOnlySpan<float> value, Span<float> best, Span<float> sum, Span<ushort> classRow)
    {
        if (channel == 0)
        {
            classRow.Clear();
            if (kind == OutputKind.Logits)
            {
                sum.Fill(1f);
            }

            return;
        }

        if (kind == OutputKind.Logits)
        {
            // Argmax with an online softmax denominator (relative to the running maximum) for the confidence.
            for (int x = 0; x < value.Length; x++)
            {
                float v = value[x];
                float m = best[x];
                if (v > m)
                {
                    sum[x] = (sum[x] * MathF.Exp(m - v)) + 1f;
                    best[x] = v;
                    classRow[x] = (ushort)channel;
                }
                else
                {
                    sum[x] += MathF.Exp(v - m);
                }
            }

            return;
        }

        for (int x = 0; x < value.Length; x++)
        {
            // Strictly greater: ties keep the lower class, as torch.argmax does.
            if (value[x] > best[x])
            {
                best[x] = value[x];
                classRow[x] = (ushort)channel;
            }
        }
    }

    private static void Finish(OutputKind kind, SemanticDecodeOptions options, ReadOnlySpan<float> best, ReadOnlySpan<float> sum, Span<ushort> classRow, Span<byte> confidence)
    {
        if (kind == OutputKind.Sigmoid)
        {
            float threshold = options.Threshold;
            for (int x = 0; x < classRow.Length; x++)
            {
                classRow[x] = best[x] > threshold ? (ushort)1 : (ushort)0;
            }

            if (!confidence.IsEmpty)
            {
                for (int x = 0; x < classRow.Length; x++)
                {
                    float p = Math.Clamp(best[x], 0f, 1f);
                    confidence[x] = ToByte(classRow[x] == 1 ? p : 1f - p);
                }
            }

            return;
        }

        if (confidence.IsEmpty)
        {
            return;
        }

        if (kind == OutputKind.Logits)
        {
            for (int x = 0; x < confidence.Length; x++)
            {
                confidence[x] = ToByte(1f / sum[x]);
            }

            return;
        }

        for (int x = 0; x < confidence.Length; x++)
        {
            confidence[x] = ToByte(best[x]);
        }
    }

    private static byte ToByte(float probability) => (byte)((Math.Clamp(probability, 0f, 1f) * 255f) + 0.5f);
}
