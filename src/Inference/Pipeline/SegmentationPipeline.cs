using System.Buffers;
using Microsoft.ML.OnnxRuntime.Tensors;
using SegServe.Inference.Decoding;
using SegServe.Inference.Imaging;
using SegServe.Inference.Instances;
using SegServe.Inference.Memory;
using SegServe.Inference.Models;
using SegServe.Inference.Preprocessing;
using SegServe.Inference.Scheduling;

namespace SegServe.Inference.Pipeline;

/// <summary>What a caller may choose per request.</summary>
/// <param name="Upsample">Resampler for scores; null for bilinear. Class-index outputs always use nearest.</param>
/// <param name="Threshold">Sigmoid threshold; null for the manifest's.</param>
/// <param name="IncludeConfidence">Also compute the confidence map.</param>
/// <param name="ForegroundClass">Also compute this class's probability map (for portrait effects); null for none.</param>
/// <param name="Deadline">When the request must have left the queue; null for <see cref="SegmentationPipeline.DefaultTimeout"/> from now.</param>
public readonly record struct SegmentOptions(
    Interpolation? Upsample,
    double? Threshold,
    bool IncludeConfidence,
    int? ForegroundClass = null,
    DateTimeOffset? Deadline = null);

/// <summary>The result of one request: the decoded photo (for overlays), its class map, and the stage timings so far.</summary>
public sealed class SemanticSegmentation(DecodedImage image, ClassMap map, Plane<byte>? foreground, Interpolation upsample, int batchSize, StageTimer timer) : IDisposable
{
    public DecodedImage Image { get; } = image;

    public ClassMap Map { get; } = map;

    /// <summary>
    /// The probability of <see cref="SegmentOptions.ForegroundClass"/> per pixel at the original size, 0–255 for 0–1,
    /// when it was asked for. Used as the alpha of compositing, so edges stay soft where the model is unsure.
    /// </summary>
    public Plane<byte>? Foreground { get; } = foreground;

    /// <summary>The resampler actually used.</summary>
    public Interpolation Upsample { get; } = upsample;

    /// <summary>How many requests shared this request's model run.</summary>
    public int BatchSize { get; } = batchSize;

    /// <summary>Timings; callers add their encode stage.</summary>
    public StageTimer Timer { get; } = timer;

    public void Dispose()
    {
        Map.Dispose();
        Foreground?.Dispose();
        Image.Dispose();
    }
}

/// <summary>The objects found in one image, with the decoded photo (for overlays) and the stage timings so far.</summary>
public sealed class InstanceSegmentation(DecodedImage image, IReadOnlyList<DetectedObject> objects, StageTimer timer) : IDisposable
{
    public DecodedImage Image { get; } = image;

    /// <summary>Objects, best score first; masks as COCO RLE at the original size.</summary>
    public IReadOnlyList<DetectedObject> Objects { get; } = objects;

    public StageTimer Timer { get; } = timer;

    public void Dispose() => Image.Dispose();
}

/// <summary>
/// The path of one request through the engine: decode → preprocess into a pooled tensor → the model's dynamic
/// batcher (queue, batch, run) → decode this request's slice of the output back to the original size.
/// </summary>
public sealed class SegmentationPipeline(ImageDecoder decoder, TimeProvider timeProvider)
{
    /// <summary>The deadline of a request that names none.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly ImageDecoder _decoder = decoder;
    private readonly TimeProvider _time = timeProvider;

    /// <summary>Segments an uploaded image with a ready semantic model.</summary>
    /// <exception cref="ImageRejectedException">The upload breaks a limit or is not a readable image.</exception>
    /// <exception cref="ModelOutputException">The model's output does not fit its manifest.</exception>
    /// <exception cref="QueueFullException">The model's queue is full.</exception>
    /// <exception cref="DeadlineExceededException">The deadline passed while the request waited.</exception>
    /// <exception cref="BatchFailedException">The model run failed.</exception>
    public async Task<SemanticSegmentation> SegmentAsync(SegmentationModel model, ReadOnlyMemory<byte> upload, SegmentOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelManifest manifest = model.Manifest ?? throw new InvalidOperationException($"Model '{model.Name}' has no manifest.");
        DynamicBatcher batcher = model.Batcher ?? throw new InvalidOperationException($"Model '{model.Name}' is not ready.");
        var timer = new StageTimer(_time);
        DecodedImage image = await _decoder.DecodeAsync(upload, cancellationToken).ConfigureAwait(false);
        try
        {
            timer.EndDecode();
            (InputGeometry geometry, ModelOutput output) = await RunModelAsync(model, batcher, image, options.Deadline, timer, cancellationToken).ConfigureAwait(false);
            using (output)
            {
                Interpolation upsample = manifest.Output.Kind == OutputKind.ClassIndices
                    ? Interpolation.Nearest
                    : options.Upsample ?? Interpolation.Bilinear;
                ClassMap map = DecodeOutput(output, manifest, model.ClassCount, geometry, upsample, options);
                Plane<byte>? foreground = null;
                try
                {
                    if (options.ForegroundClass is int foregroundClass)
                    {
                        foreground = DecodeForeground(output, manifest, geometry, foregroundClass);
                    }
                }
                catch
                {
                    map.Dispose();
                    throw;
                }

                timer.EndPostprocess();
                return new SemanticSegmentation(image, map, foreground, upsample, output.BatchSize, timer);
            }
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>Segments an uploaded image with a ready instance model: the objects found, in the original image.</summary>
    /// <exception cref="ImageRejectedException">The upload breaks a limit or is not a readable image.</exception>
    /// <exception cref="ModelOutputException">The model's outputs do not fit its family.</exception>
    public async Task<InstanceSegmentation> SegmentInstancesAsync(
        SegmentationModel model,
        ReadOnlyMemory<byte> upload,
        InstanceOptions options,
        DateTimeOffset? deadline,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        InstanceFamily family = model.InstanceFamily ?? throw new InvalidOperationException($"Model '{model.Name}' is not an instance model.");
        DynamicBatcher batcher = model.Batcher ?? throw new InvalidOperationException($"Model '{model.Name}' is not ready.");
        var timer = new StageTimer(_time);
        DecodedImage image = await _decoder.DecodeAsync(upload, cancellationToken).ConfigureAwait(false);
        try
        {
            timer.EndDecode();
            (InputGeometry geometry, ModelOutput output) = await RunModelAsync(model, batcher, image, deadline, timer, cancellationToken).ConfigureAwait(false);
            using (output)
            {
                List<DetectedObject> objects = InstanceDecoder.Decode(family, output.Values, geometry, model.ClassCount, options);
                timer.EndPostprocess();
                return new InstanceSegmentation(image, objects, timer);
            }
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Where an image becomes the model's output: plan the geometry, preprocess into a pooled tensor, queue it in the
    /// model's batcher and wait for this request's output (timed; cancellation checked once it is back).
    /// </summary>
    private async Task<(InputGeometry Geometry, ModelOutput Output)> RunModelAsync(
        SegmentationModel model,
        DynamicBatcher batcher,
        DecodedImage image,
        DateTimeOffset? deadline,
        StageTimer timer,
        CancellationToken cancellationToken)
    {
        InputGeometry geometry = model.Preprocessor!.Plan(image.Width, image.Height);
        int length = ImagePreprocessor.TensorLength(geometry);
        float[] tensor = ArrayPool<float>.Shared.Rent(length);
        ModelOutput output;
        try
        {
            model.Preprocessor.Write(image.Image, geometry, tensor.AsMemory(0, length));
            timer.EndPreprocess();
            long[] itemShape = model.InputShape(geometry, 1)[(model.HasBatchAxis ? 1 : 0)..];
            output = await batcher.EnqueueAsync(tensor.AsMemory(0, length), itemShape, deadline ?? _time.GetUtcNow() + DefaultTimeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // The batcher has copied the tensor into its batch (or dropped the request) by the time it answers.
            ArrayPool<float>.Shared.Return(tensor);
        }

        timer.AddRun(output, model.Name, model.Provider?.Name);
        if (cancellationToken.IsCancellationRequested)
        {
            output.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
        }

        return (geometry, output);
    }

    private static Plane<byte> DecodeForeground(ModelOutput output, ModelManifest manifest, InputGeometry geometry, int classId)
    {
        (int channels, int height, int width) = Dimensions(output);
        int perImage = channels * height * width;
        OutputKind kind = manifest.Output.Kind;
        return output.ElementType switch
        {
            TensorElementType.Int32 => SemanticDecoder.DecodeForeground(output.Data<int>()[..perImage], channels, height, width, geometry, kind, classId),
            TensorElementType.Int64 => SemanticDecoder.DecodeForeground(output.Data<long>()[..perImage], channels, height, width, geometry, kind, classId),
            _ => SemanticDecoder.DecodeForeground(output.Data<float>()[..perImage], channels, height, width, geometry, kind, classId),
        };
    }

    /// <summary>Channels, height and width of an <c>[1, C, H, W]</c> or <c>[1, H, W]</c> output.</summary>
    private static (int Channels, int Height, int Width) Dimensions(ModelOutput output)
    {
        IReadOnlyList<long> shape = output.Shape;
        int rank = shape.Count;
        if (rank is not (3 or 4) || shape[0] < 1)
        {
            throw new ModelOutputException($"The model's output has shape [{string.Join(',', shape)}]; expected [N,C,H,W].");
        }

        return (rank == 4 ? (int)shape[1] : 1, (int)shape[rank - 2], (int)shape[rank - 1]);
    }

    private static ClassMap DecodeOutput(ModelOutput output, ModelManifest manifest, int classCount, InputGeometry geometry, Interpolation upsample, SegmentOptions options)
    {
        (int channels, int height, int width) = Dimensions(output);
        int perImage = channels * height * width;

        if (manifest.Output.Kind == OutputKind.ClassIndices)
        {
            if (channels != 1)
            {
                throw new ModelOutputException($"Class-index output has {channels} channels; expected 1.");
            }

            return output.ElementType == TensorElementType.Int32
                ? SemanticDecoder.DecodeIndices(output.Data<int>()[..perImage], height, width, geometry, classCount)
                : SemanticDecoder.DecodeIndices(output.Data<long>()[..perImage], height, width, geometry, classCount);
        }

        int expectedChannels = manifest.Output.Kind == OutputKind.Sigmoid ? 1 : classCount;
        if (channels != expectedChannels)
        {
            throw new ModelOutputException($"The model's output has {channels} channels; the manifest expects {expectedChannels}.");
        }

        var decodeOptions = new SemanticDecodeOptions(upsample, (float)(options.Threshold ?? manifest.Output.Threshold), options.IncludeConfidence);
        return SemanticDecoder.DecodeScores(
            output.Data<float>()[..perImage],
            channels,
            height,
            width,
            geometry,
            manifest.Output.Kind,
            classCount,
            decodeOptions);
    }
}
