using System.IO.Compression;
using SegServe.Inference;
using SegServe.Inference.Evaluation;
using SegServe.Inference.Evaluation.Instances;
using SegServe.Inference.Imaging;
using SegServe.Inference.Memory;

namespace SegServe.Fuzz;

/// <summary>
/// The fuzzed entry points. Each swallows only the typed rejection its caller maps to a 4xx; anything else escapes
/// and is a crash for AFL.
/// </summary>
internal static class Targets
{
    private static readonly ImageDecoder s_decoder = new(new ImageLimits());

    public static Action<ReadOnlyMemory<byte>> For(string name) => name switch
    {
        "decode" => Decode,
        "coco" => Coco,
        "zip" => Zip,
        _ => throw new ArgumentException($"Unknown target '{name}' (decode, coco, zip).", nameof(name)),
    };

    /// <summary>The upload path of every segment request, with the default limits.</summary>
    public static void Decode(ReadOnlyMemory<byte> input)
    {
        try
        {
            using DecodedImage image = s_decoder.DecodeAsync(input, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (ImageRejectedException)
        {
        }
    }

    /// <summary>The input as COCO ground truth, then as predictions against it (array or <c>instances</c>), then scored.</summary>
    public static void Coco(ReadOnlyMemory<byte> input)
    {
        try
        {
            CocoGroundTruth truth = CocoJson.ReadGroundTruth(input, "groundTruth", new ImageLimits().MaxPixels, ScoringSettings.MaxClasses);
            long imageId = truth.ImageIds.Count > 0 ? truth.ImageIds[0] : 1;
            List<DetectedInstance> detections = CocoJson.ReadDetections(input, "predictions", truth.ImageSizes, imageId);
            CocoEvaluator.Evaluate(truth.Instances, detections, truth.ImageIds, truth.CategoryIds);
        }
        catch (EvaluationInputException)
        {
        }
    }

    /// <summary>The archive of a run: opened, paired, and every paired entry read within 1 MiB.</summary>
    public static void Zip(ReadOnlyMemory<byte> input)
    {
        try
        {
            using PairArchive archive = PairArchive.Open(input, imagesAllowed: true, maxPairs: 64);
            foreach (ArchivePair pair in archive.Pairs)
            {
                Read(pair.GroundTruth, pair.Name);
                Read(pair.Prediction, pair.Name);
            }
        }
        catch (Exception ex) when (ex is EvaluationInputException or ImageRejectedException { Reason: ImageRejection.TooManyBytes })
        {
        }
    }

    private static void Read(ZipArchiveEntry entry, string name)
    {
        using PooledBytes bytes = PairArchive.ReadAsync(entry, name, 1 << 20, CancellationToken.None).GetAwaiter().GetResult();
    }
}
