using SegServe.Inference.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;
using ResizeMode = SegServe.Inference.Models.ResizeMode;

namespace SegServe.Inference.Preprocessing;

/// <summary>
/// Where an image becomes a tensor: resize per the manifest (stretch, letterbox, shorter side, or native size padded
/// to a multiple), then normalise <c>(pixel × scale − mean) / std</c> in the network's channel order and layout,
/// written row by row into a caller-owned (pooled) float buffer.
/// </summary>
public sealed class ImagePreprocessor
{
    private readonly InputSpec _spec;

    // Per source channel (R, G, B): the destination channel it lands in, and the affine map pixel → value.
    private readonly int[] _destinationChannel = new int[3];
    private readonly float[] _multiplier = new float[3];
    private readonly float[] _offset = new float[3];

    public ImagePreprocessor(InputSpec spec)
    {
        _spec = spec;
        for (int source = 0; source < 3; source++)
        {
            int destination = spec.Color == ChannelOrder.Rgb ? source : 2 - source;
            _destinationChannel[source] = destination;
            double std = spec.Std[destination];
            _multiplier[source] = (float)(spec.Scale / std);
            _offset[source] = (float)(-spec.Mean[destination] / std);
        }
    }

    /// <summary>Elements of one image's tensor slice (3 × height × width).</summary>
    public static int TensorLength(InputGeometry geometry) => 3 * geometry.InputWidth * geometry.InputHeight;

    /// <summary>Decides the network input size and where the image goes inside it.</summary>
    public InputGeometry Plan(int width, int height)
    {
        int multiple = _spec.PadToMultipleOf;
        switch (_spec.Resize)
        {
            case ResizeMode.Stretch:
                {
                    int w = _spec.Width!.Value;
                    int h = _spec.Height!.Value;
                    return new InputGeometry(width, height, w, h, 0, 0, w, h);
                }

            case ResizeMode.Letterbox:
                {
                    // Ultralytics LetterBox: banker's rounding of the resized size and of the centred pad (pad ∓ 0.1).
                    int w = _spec.Width!.Value;
                    int h = _spec.Height!.Value;
                    double ratio = Math.Min((double)w / width, (double)h / height);
                    int contentWidth = Math.Clamp((int)Math.Round(width * ratio), 1, w);
                    int contentHeight = Math.Clamp((int)Math.Round(height * ratio), 1, h);
                    int left = (int)Math.Round(((w - contentWidth) / 2.0) - 0.1);
                    int top = (int)Math.Round(((h - contentHeight) / 2.0) - 0.1);
                    return new InputGeometry(width, height, w, h, Math.Max(left, 0), Math.Max(top, 0), contentWidth, contentHeight);
                }

            case ResizeMode.ShorterSide:
                {
                    int shorter = Math.Min(width, height);
                    int longer = Math.Max(width, height);
                    double ratio = (double)_spec.ShorterSide!.Value / shorter;
                    int newShorter = _spec.ShorterSide.Value;
                    int newLonger;
                    if (_spec.Rounding == SizeRounding.Truncate)
                    {
                        // torchvision _compute_resized_output_size: int(size * long / short) — one division of exact
                        // integers (longer * ratio can land just below a whole number), then max_size on the result.
                        newLonger = (int)((double)newShorter * longer / shorter);
                        if (_spec.MaxLongerSide is int maxSize && newLonger > maxSize)
                        {
                            newShorter = (int)((double)maxSize * newShorter / newLonger);
                            newLonger = maxSize;
                        }
                    }
                    else
                    {
                        newLonger = RoundSide(longer * ratio);
                        if (_spec.MaxLongerSide is int maxLonger && newLonger > maxLonger)
                        {
                            ratio = (double)maxLonger / longer;
                            newLonger = maxLonger;
                            newShorter = RoundSide(shorter * ratio);
                        }
                    }

                    int contentWidth = Math.Max(1, width <= height ? newShorter : newLonger);
                    int contentHeight = Math.Max(1, width <= height ? newLonger : newShorter);
                    return new InputGeometry(width, height, RoundUp(contentWidth, multiple), RoundUp(contentHeight, multiple), 0, 0, contentWidth, contentHeight);
                }

            default:
                return new InputGeometry(width, height, RoundUp(width, multiple), RoundUp(height, multiple), 0, 0, width, height);
        }
    }

    /// <summary>Writes one image into <paramref name="destination"/> (exactly <see cref="TensorLength"/> elements).</summary>
    public void Write(Image<Rgb24> image, InputGeometry geometry, Memory<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (destination.Length != TensorLength(geometry))
        {
            throw new ArgumentException($"Destination holds {destination.Length} values; the input needs {TensorLength(geometry)}.", nameof(destination));
        }

        if (geometry.HasPadding)
        {
            FillPadding(destination.Span, geometry);
        }

        if (!geometry.Resizes)
        {
            WriteRows(image, geometry, destination);
            return;
        }

        if (_spec.Interpolation is Interpolation.Bilinear or Interpolation.Bicubic)
        {
            // Bit-exact with Pillow, which the exporters' reference pipelines resize with.
            PilResampler.Filter filter = _spec.Interpolation == Interpolation.Bilinear ? PilResampler.Filter.Bilinear : PilResampler.Filter.Bicubic;
            using Image<Rgb24> pil = PilResampler.Resize(image, geometry.ContentWidth, geometry.ContentHeight, filter);
            WriteRows(pil, geometry, destination);
            return;
        }

        var options = new ResizeOptions
        {
            Size = new Size(geometry.ContentWidth, geometry.ContentHeight),
            Mode = SixLabors.ImageSharp.Processing.ResizeMode.Stretch,
            Sampler = Resampler(_spec.Interpolation),
        };
        using Image<Rgb24> resized = image.Clone(x => x.Resize(options));
        WriteRows(resized, geometry, destination);
    }

    private static IResampler Resampler(Interpolation interpolation) => interpolation switch
    {
        Interpolation.Nearest => KnownResamplers.NearestNeighbor,
        Interpolation.Bicubic => KnownResamplers.Bicubic,

        // Triangle = bilinear, with the kernel widened when downscaling (antialiased, as PIL's BILINEAR).
        _ => KnownResamplers.Triangle,
    };

    private void FillPadding(Span<float> destination, InputGeometry geometry)
    {
        int plane = geometry.InputWidth * geometry.InputHeight;
        Span<float> padPerDestination = stackalloc float[3];
        for (int source = 0; source < 3; source++)
        {
            padPerDestination[_destinationChannel[source]] = (_spec.PadValue * _multiplier[source]) + _offset[source];
        }

        if (_spec.Layout == TensorLayout.Nchw)
        {
            for (int c = 0; c < 3; c++)
            {
                destination.Slice(c * plane, plane).Fill(padPerDestination[c]);
            }

            return;
        }

        for (int i = 0; i < destination.Length; i += 3)
        {
            destination[i] = padPerDestination[0];
            destination[i + 1] = padPerDestination[1];
            destination[i + 2] = padPerDestination[2];
        }
    }

    private void WriteRows(Image<Rgb24> image, InputGeometry geometry, Memory<float> destination)
    {
        int[] channel = _destinationChannel;
        float aR = _multiplier[0], aG = _multiplier[1], aB = _multiplier[2];
        float bR = _offset[0], bG = _offset[1], bB = _offset[2];
        int inputWidth = geometry.InputWidth;
        int plane = inputWidth * geometry.InputHeight;
        int contentWidth = geometry.ContentWidth;
        bool planar = _spec.Layout == TensorLayout.Nchw;

        image.ProcessPixelRows(accessor =>
        {
            Span<float> tensor = destination.Span;
            for (int y = 0; y < accessor.Height; y++)
            {
                ReadOnlySpan<Rgb24> row = accessor.GetRowSpan(y);
                int pixelOffset = ((y + geometry.ContentY) * inputWidth) + geometry.ContentX;
                if (planar)
                {
                    // Three planar row slices: the loop body is a multiply-add per channel, no index arithmetic.
                    Span<float> r = tensor.Slice((channel[0] * plane) + pixelOffset, contentWidth);
                    Span<float> g = tensor.Slice((channel[1] * plane) + pixelOffset, contentWidth);
                    Span<float> b = tensor.Slice((channel[2] * plane) + pixelOffset, contentWidth);
                    for (int x = 0; x < row.Length; x++)
                    {
                        Rgb24 p = row[x];
                        r[x] = (p.R * aR) + bR;
                        g[x] = (p.G * aG) + bG;
                        b[x] = (p.B * aB) + bB;
                    }
                }
                else
                {
                    Span<float> interleaved = tensor.Slice(pixelOffset * 3, contentWidth * 3);
                    int cr = channel[0], cg = channel[1], cb = channel[2];
                    for (int x = 0, i = 0; x < row.Length; x++, i += 3)
                    {
                        Rgb24 p = row[x];
                        interleaved[i + cr] = (p.R * aR) + bR;
                        interleaved[i + cg] = (p.G * aG) + bG;
                        interleaved[i + cb] = (p.B * aB) + bB;
                    }
                }
            }
        });
    }

    private int RoundSide(double value) =>
        _spec.Rounding == SizeRounding.Round ? (int)(value + 0.5) : (int)value;

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
