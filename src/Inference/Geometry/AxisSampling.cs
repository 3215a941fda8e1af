using System.Buffers;
using SegServe.Inference.Models;

namespace SegServe.Inference.Geometry;

/// <summary>
/// Precomputed taps of a 1-D resampler: for every output index, which source indices it reads and with what weights.
/// Built once per axis and request, so the 2-D loops do no coordinate arithmetic per pixel. The formulas follow
/// PyTorch <c>F.interpolate</c> with <c>align_corners=False</c> (float32 arithmetic, as its CPU kernels), applied to a
/// source window <c>[start, start + length)</c> so that letterbox and alignment padding never leak into the result.
/// </summary>
internal sealed class AxisSampling : IDisposable
{
    private const float CubicA = -0.75f;

    private int[]? _indices;
    private float[]? _weights;

    private AxisSampling(int taps, int length)
    {
        Taps = taps;
        Length = length;
        _indices = ArrayPool<int>.Shared.Rent(taps * length);
        _weights = ArrayPool<float>.Shared.Rent(taps * length);
    }

    /// <summary>Taps per output index: 1 (nearest), 2 (bilinear) or 4 (bicubic).</summary>
    public int Taps { get; }

    /// <summary>Number of output indices.</summary>
    public int Length { get; }

    /// <summary>Source indices, <see cref="Taps"/> per output index.</summary>
    public ReadOnlySpan<int> Indices => _indices.AsSpan(0, Taps * Length);

    /// <summary>Weights, <see cref="Taps"/> per output index; each group sums to 1.</summary>
    public ReadOnlySpan<float> Weights => _weights.AsSpan(0, Taps * Length);

    /// <summary>Lowest source index any tap reads.</summary>
    public int MinIndex { get; private set; }

    /// <summary>Highest source index any tap reads.</summary>
    public int MaxIndex { get; private set; }

    /// <summary>Samples the whole source axis (no crop).</summary>
    public static AxisSampling Create(Interpolation method, int sourceLength, int outputLength) =>
        Create(method, sourceLength, 0, sourceLength, outputLength);

    /// <summary>
    /// Samples the window <c>[windowStart, windowStart + windowLength)</c> of a source axis of <paramref name="sourceLength"/>
    /// onto <paramref name="outputLength"/> indices. Indices are clamped to the whole pixels the window covers.
    /// </summary>
    public static AxisSampling Create(Interpolation method, int sourceLength, double windowStart, double windowLength, int outputLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sourceLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputLength, 1);

        int lo = Math.Clamp((int)Math.Floor(windowStart), 0, sourceLength - 1);
        int hi = Math.Clamp((int)Math.Ceiling(windowStart + windowLength) - 1, lo, sourceLength - 1);
        float start = (float)windowStart;
        float scale = (float)(windowLength / outputLength);
        int taps = method switch
        {
            Interpolation.Nearest => 1,
            Interpolation.Bilinear => 2,
            _ => 4,
        };

        var sampling = new AxisSampling(taps, outputLength) { MinIndex = hi, MaxIndex = lo };
        Span<int> indices = sampling._indices.AsSpan(0, taps * outputLength);
        Span<float> weights = sampling._weights.AsSpan(0, taps * outputLength);
        bool identity = windowStart == 0 && windowLength == outputLength && sourceLength >= outputLength;

        for (int d = 0; d < outputLength; d++)
        {
            int t = d * taps;
            if (identity)
            {
                // Same size: every method reduces to a copy (PyTorch short-circuits this case too).
                indices[t] = d;
                weights[t] = 1f;
                for (int k = 1; k < taps; k++)
                {
                    indices[t + k] = d;
                    weights[t + k] = 0f;
                }
            }
            else
            {
                Fill(method, d, start, scale, lo, hi, indices.Slice(t, taps), weights.Slice(t, taps));
            }

            for (int k = 0; k < taps; k++)
            {
                int index = indices[t + k];
                sampling.MinIndex = Math.Min(sampling.MinIndex, index);
                sampling.MaxIndex = Math.Max(sampling.MaxIndex, index);
            }
        }

        return sampling;
    }

    /// <summary>The taps of output index <paramref name="d"/> for a resize (not a copy).</summary>
    private static void Fill(Interpolation method, int d, float start, float scale, int lo, int hi, Span<int> indices, Span<float> weights)
    {
        switch (method)
        {
            case Interpolation.Nearest:
                {
                    // PyTorch "nearest": floor(d * in / out), top-left aligned (not centred).
                    indices[0] = Math.Clamp((int)MathF.Floor(start + (d * scale)), lo, hi);
                    weights[0] = 1f;
                    break;
                }

            case Interpolation.Bilinear:
                {
                    // Half-pixel centres; negative source coordinates clamp to the first pixel.
                    float s = MathF.Max(start + (scale * (d + 0.5f)) - 0.5f, lo);
                    int i0 = Math.Min((int)s, hi);
                    float lambda = MathF.Min(s - i0, 1f);
                    indices[0] = i0;
                    indices[1] = Math.Min(i0 + 1, hi);
                    weights[0] = 1f - lambda;
                    weights[1] = lambda;
                    break;
                }

            default:
                {
                    // Keys cubic convolution with A = -0.75; taps beyond the window read its edge pixel.
                    float s = start + (scale * (d + 0.5f)) - 0.5f;
                    float floor = MathF.Floor(s);
                    float x = s - floor;
                    int i = (int)floor;
                    weights[0] = CubicFar(x + 1f);
                    weights[1] = CubicNear(x);
                    weights[2] = CubicNear(1f - x);
                    weights[3] = CubicFar(2f - x);
                    for (int k = 0; k < 4; k++)
                    {
                        indices[k] = Math.Clamp(i - 1 + k, lo, hi);
                    }

                    break;
                }
        }
    }

    public void Dispose()
    {
        if (_indices is not null)
        {
            ArrayPool<int>.Shared.Return(_indices);
            ArrayPool<float>.Shared.Return(_weights!);
            _indices = null;
            _weights = null;
        }
    }

    private static float CubicNear(float x) => ((((CubicA + 2f) * x) - (CubicA + 3f)) * x * x) + 1f;

    private static float CubicFar(float x) => ((((CubicA * x) - (5f * CubicA)) * x) + (8f * CubicA)) * x - (4f * CubicA);
}
