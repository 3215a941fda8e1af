using SegServe.Inference.Imaging;
using SegServe.Inference.Memory;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;

namespace SegServe.Inference.Evaluation;

/// <summary>One scored sample of a dataset: its name and its summed counts.</summary>
public sealed record ScoredSample(string Name, SemanticAccumulator Sums);

/// <summary>
/// Scores semantic pairs: a predicted label map — or an image the model predicts, through its queue like any other
/// request — against a ground-truth label map, summed into a <see cref="SemanticAccumulator"/>. The model's class map
/// is scored as it comes out of the decoder, without a copy.
/// </summary>
public sealed class SemanticPairScorer(SegmentationPipeline pipeline, ImageDecoder decoder, TimeProvider timeProvider)
{
    private readonly SegmentationPipeline _pipeline = pipeline;
    private readonly ImageLimits _limits = decoder.Limits;
    private readonly DecodeAdmission _admission = decoder.Admission;

    // A label map held while a pair is scored, in bytes per pixel: its decoded image (at most RGB, 3) and its labels (2);
    // a predicted pair holds two, plus the scorer's own counts (2).
    private const int MapBytesPerPixel = 5;
    private const int PairBytesPerPixel = (2 * MapBytesPerPixel) + 2;
    private readonly TimeProvider _time = timeProvider;

    /// <summary>Scores one pair into <paramref name="sums"/>.</summary>
    /// <param name="settings">Classes, ignore index and palette.</param>
    /// <param name="groundTruth">The ground-truth label map (PNG).</param>
    /// <param name="prediction">The predicted label map (PNG); null when <paramref name="image"/> is to be predicted.</param>
    /// <param name="image">An image for <paramref name="model"/> to predict.</param>
    /// <param name="model">The ready model that predicts images; null when the request gives none.</param>
    /// <param name="timeout">How long the model's run may take to start.</param>
    /// <param name="sums">Where the counts are added.</param>
    /// <param name="label">The sample's name in messages (empty for a single pair).</param>
    /// <param name="cancellationToken">Request abort.</param>
    /// <exception cref="EvaluationInputException">A file cannot be read, or the pair cannot be scored.</exception>
    /// <exception cref="InvalidOptionException">An image was sent without a model.</exception>
    public async Task ScoreAsync(
        ScoringSettings settings,
        ReadOnlyMemory<byte> groundTruth,
        ReadOnlyMemory<byte>? prediction,
        ReadOnlyMemory<byte>? image,
        SegmentationModel? model,
        TimeSpan timeout,
        SemanticAccumulator sums,
        string label,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(sums);
        string where = label.Length == 0 ? "" : $" ({label})";

        // Label maps share the images' memory budget: a pair of 40 MP maps costs what a 40 MP photo does, and is admitted
        // (or refused with 429) the same way, from the ground truth's header before anything is decoded.
        long pixels = LabelMapReader.DeclaredPixels(groundTruth.Span);
        if (pixels > _limits.MaxPixels)
        {
            pixels = 0; // refused by the read below, which names the limit
        }

        long bytes = pixels * (prediction is null ? MapBytesPerPixel : PairBytesPerPixel);
        if (bytes > _admission.CapacityBytes)
        {
            throw new EvaluationInputException($"groundTruth{where} declares {pixels} pixels; scoring it would hold {bytes} bytes, more than Inference:Images:MaxDecodedBytesInFlight ({_admission.CapacityBytes} bytes).");
        }

        using DecodeReservation reservation = await _admission.ReserveAsync(bytes, cancellationToken).ConfigureAwait(false);
        using Plane<ushort> truth = LabelMapReader.Read(groundTruth, "groundTruth" + where, settings.Colours, _limits.MaxPixels);
        try
        {
            if (prediction is ReadOnlyMemory<byte> predicted)
            {
                using Plane<ushort> labels = LabelMapReader.Read(predicted, "prediction" + where, settings.Colours, _limits.MaxPixels);
                SemanticEvaluator.Accumulate(labels, truth, settings.IgnoreIndex, sums);
                return;
            }

            if (model is null || image is not ReadOnlyMemory<byte> photo)
            {
                throw new InvalidOptionException("model", null, $"An 'image' needs a model to predict it: give 'model', or send a 'prediction' label map instead{where}.");
            }

            var options = new SegmentOptions(null, null, false, null, _time.GetUtcNow() + timeout);
            using SemanticSegmentation result = await _pipeline.SegmentAsync(model, photo, options, cancellationToken).ConfigureAwait(false);
            SemanticEvaluator.Accumulate(result.Map.Classes, truth, settings.IgnoreIndex, sums);
        }
        catch (EvaluationInputException ex) when (where.Length > 0 && ex.Fault == EvaluationFault.CannotScore && !ex.Message.EndsWith(where, StringComparison.Ordinal))
        {
            // Name the sample of an archive in size and label mismatches too.
            throw new EvaluationInputException(ex.Fault, ex.Message + where);
        }
    }

    /// <summary>
    /// Scores the pairs of an archive one at a time, each handed over as soon as it is scored (so that a caller can
    /// store it and let it go: memory holds one pair, not the archive's thousands); an exception for the first that fails.
    /// </summary>
    public async IAsyncEnumerable<ScoredSample> ScoreArchiveAsync(
        ScoringSettings settings,
        PairArchive archive,
        SegmentationModel? model,
        TimeSpan timeout,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(archive);
        foreach (ArchivePair pair in archive.Pairs)
        {
            using PooledBytes truth = await PairArchive.ReadAsync(pair.GroundTruth, pair.Name, _limits.MaxBytes, cancellationToken).ConfigureAwait(false);
            using PooledBytes other = await PairArchive.ReadAsync(pair.Prediction, pair.Name, _limits.MaxBytes, cancellationToken).ConfigureAwait(false);
            var sums = new SemanticAccumulator(settings.NumClasses);
            await ScoreAsync(
                settings,
                truth.Memory,
                // Typed nulls: a bare null would become an empty ReadOnlyMemory (through its conversion from byte[]),
                // and an image pair would be read as an empty prediction.
                pair.IsImage ? (ReadOnlyMemory<byte>?)null : other.Memory,
                pair.IsImage ? other.Memory : (ReadOnlyMemory<byte>?)null,
                model,
                timeout,
                sums,
                pair.Name,
                cancellationToken).ConfigureAwait(false);
            yield return new ScoredSample(pair.Name, sums);
        }
    }
}
