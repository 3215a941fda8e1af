using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SegServe.Inference.Decoding;
using SegServe.Inference.Imaging;
using SegServe.Inference.Models;
using SegServe.Inference.Preprocessing;

namespace SegServe.Inference.Pipeline;

/// <summary>What a caller may choose per request.</summary>
/// <param name="Upsample">Resampler for scores; null for bilinear. Class-index outputs always use nearest.</param>
/// <param name="Threshold">Sigmoid threshold; null for the manifest's.</param>
/// <param name="IncludeConfidence">Also compute the confidence map.</param>
/// <param name="ForegroundClass">Also compute this class's probability map (for portrait effects); null for none.</param>
public readonly record struct SegmentOptions(Interpolation? Upsample, double? Threshold, bool IncludeConfidence, int? ForegroundClass = null);

/// <summary>The result of one request: the decoded photo (for overlays), its class map, and the stage timings so far.</summary>
public sealed class SemanticSegmentation(DecodedImage image, ClassMap map, ForegroundMask? foreground, Interpolation upsample, StageTimer timer) : IDisposable
{
    public DecodedImage Image { get; } = image;

    public ClassMap Map { get; } = map;

    /// <summary>The probability map of <see cref="SegmentOptions.ForegroundClass"/>, when it was asked for.</summary>
    public ForegroundMask? Foreground { get; } = foreground;

    /// <summary>The resampler actually used.</summary>
    public Interpolation Upsample { get; } = upsample;

    /// <summary>Timings; callers add their encode stage.</summary>
    public StageTimer Timer { get; } = timer;

    public void Dispose()
    {
        Map.Dispose();
        Foreground?.Dispose();
        Image.Dispose();
    }
}

/// <summary>
/// The path of one request through the engine: decode → preprocess into a pooled tensor → wait for a model instance →
/// run → decode the output back to the original size.
/// </summary>
public sealed class SegmentationPipeline(ImageDecoder decoder, TimeProvider timeProvider)
{
    private readonly ImageDecoder _decoder = decoder;
    private readonly TimeProvider _time = timeProvider;

    /// <summary>Segments an uploaded image with a ready semantic model.</summary>
    /// <exception cref="ImageRejectedException">The upload breaks a limit or is not a readable image.</exception>
    /// <exception cref="ModelOutputException">The model's output does not fit its manifest.</exception>
    public async Task<SemanticSegmentation> SegmentAsync(SegmentationModel model, ReadOnlyMemory<byte> upload, SegmentOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelManifest manifest = model.Manifest ?? throw new InvalidOperationException($"Model '{model.Name}' has no manifest.");
        var timer = new StageTimer(_time);
        DecodedImage image = _decoder.Decode(upload);
        try
        {
            timer.EndDecode();
            InputGeometry geometry = model.Preprocessor!.Plan(image.Width, image.Height);
            int length = ImagePreprocessor.TensorLength(geometry);
            float[] tensor = ArrayPool<float>.Shared.Rent(length);
            try
            {
                model.Preprocessor.Write(image.Image, geometry, tensor.AsMemory(0, length));
                timer.EndPreprocess();

                await model.Instances.WaitAsync(cancellationToken).ConfigureAwait(false);
                timer.EndQueue();
                IDisposableReadOnlyCollection<OrtValue> outputs;
                try
                {
                    outputs = model.Run(tensor.AsMemory(0, length), model.InputShape(geometry, 1));
                }
                finally
                {
                    model.Instances.Release();
                }

                timer.EndInference();
                using (outputs)
                {
                    Interpolation upsample = manifest.Output.Kind == OutputKind.ClassIndices
                        ? Interpolation.Nearest
                        : options.Upsample ?? Interpolation.Bilinear;
                    ClassMap map = DecodeOutput(outputs[0], manifest, model.ClassCount, geometry, upsample, options);
                    ForegroundMask? foreground = null;
                    try
                    {
                        if (options.ForegroundClass is int foregroundClass)
                        {
                            foreground = DecodeForeground(outputs[0], manifest, geometry, foregroundClass);
                        }
                    }
                    catch
                    {
                        map.Dispose();
                        throw;
                    }

                    timer.EndPostprocess();
                    return new SemanticSegmentation(image, map, foreground, upsample, timer);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(tensor);
            }
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    private static ForegroundMask DecodeForeground(OrtValue output, ModelManifest manifest, InputGeometry geometry, int classId)
    {
        // DecodeOutput has validated the shape already.
        OrtTensorTypeAndShapeInfo info = output.GetTensorTypeAndShape();
        long[] shape = info.Shape;
        int rank = shape.Length;
        int channels = rank == 4 ? (int)shape[1] : 1;
        int height = (int)shape[rank - 2];
        int width = (int)shape[rank - 1];
        int perImage = channels * height * width;
        OutputKind kind = manifest.Output.Kind;
        return info.ElementDataType switch
        {
            TensorElementType.Int32 => SemanticDecoder.DecodeForeground(output.GetTensorDataAsSpan<int>()[..perImage], channels, height, width, geometry, kind, classId),
            TensorElementType.Int64 => SemanticDecoder.DecodeForeground(output.GetTensorDataAsSpan<long>()[..perImage], channels, height, width, geometry, kind, classId),
            _ => SemanticDecoder.DecodeForeground(output.GetTensorDataAsSpan<float>()[..perImage], channels, height, width, geometry, kind, classId),
        };
    }

    private static ClassMap DecodeOutput(OrtValue output, ModelManifest manifest, int classCount, InputGeometry geometry, Interpolation upsample, SegmentOptions options)
    {
        OrtTensorTypeAndShapeInfo info = output.GetTensorTypeAndShape();
        long[] shape = info.Shape;

        // [N, C, H, W] (or [N, H, W] for class indices); this request is image 0 of the batch.
        int rank = shape.Length;
        if (rank is not (3 or 4) || shape[0] < 1)
        {
            throw new ModelOutputException($"The model's output has shape [{string.Join(',', shape)}]; expected [N,C,H,W].");
        }

        int channels = rank == 4 ? (int)shape[1] : 1;
        int height = (int)shape[rank - 2];
        int width = (int)shape[rank - 1];
        int perImage = channels * height * width;

        if (manifest.Output.Kind == OutputKind.ClassIndices)
        {
            if (channels != 1)
            {
                throw new ModelOutputException($"Class-index output has {channels} channels; expected 1.");
            }

            return info.ElementDataType == TensorElementType.Int32
                ? SemanticDecoder.DecodeIndices(output.GetTensorDataAsSpan<int>()[..perImage], height, width, geometry, classCount)
                : SemanticDecoder.DecodeIndices(output.GetTensorDataAsSpan<long>()[..perImage], height, width, geometry, classCount);
        }

        int expectedChannels = manifest.Output.Kind == OutputKind.Sigmoid ? 1 : classCount;
        if (channels != expectedChannels)
        {
            throw new ModelOutputException($"The model's output has {channels} channels; the manifest expects {expectedChannels}.");
        }

        var decodeOptions = new SemanticDecodeOptions(upsample, (float)(options.Threshold ?? manifest.Output.Threshold), options.IncludeConfidence);
        return SemanticDecoder.DecodeScores(
            output.GetTensorDataAsSpan<float>()[..perImage],
            channels,
            height,
            width,
            geometry,
            manifest.Output.Kind,
            classCount,
            decodeOptions);
    }
}
