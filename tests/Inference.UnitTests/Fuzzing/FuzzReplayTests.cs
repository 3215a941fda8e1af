using SegServe.Inference.Evaluation;
using SegServe.Inference.Evaluation.Instances;
using SegServe.Inference.Imaging;
using SegServe.Inference.Memory;
using SegServe.Tests.Shared;

namespace SegServe.Inference.UnitTests.Fuzzing;

/// <summary>
/// Every seed and every crasher the fuzzers kept (<c>fuzz/corpus/TARGET</c>, <c>fuzz/crashers/TARGET</c>) run through
/// the real code as fuzz/SegServe.Fuzz runs them: each may be accepted or refused with the typed exception the host
/// maps to a 4xx, nothing else.
/// </summary>
public sealed class FuzzReplayTests
{
    public static TheoryData<string, string> Files()
    {
        var data = new TheoryData<string, string>();
        foreach (string kind in new[] { "corpus", "crashers" })
        {
            foreach (string target in new[] { "decode", "coco", "zip" })
            {
                string folder = Repository.PathOf(Path.Combine("fuzz", kind, target));
                if (!Directory.Exists(folder))
                {
                    continue;
                }

                foreach (string file in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
                {
                    data.Add(target, Path.GetRelativePath(Repository.Root, file));
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task KeptInput_IsAcceptedOrRefusedTyped(string target, string file)
    {
        byte[] input = await File.ReadAllBytesAsync(Repository.PathOf(file), TestContext.Current.CancellationToken);
        switch (target)
        {
            case "decode":
                await DecodeAsync(input);
                break;
            case "coco":
                Coco(input);
                break;
            default:
                await ZipAsync(input);
                break;
        }
    }

    [Fact]
    public void TheCorpusOfEachTarget_IsThere()
    {
        TheoryData<string, string> files = Files();
        foreach (string target in new[] { "decode", "coco", "zip" })
        {
            Assert.Contains(files, row => row.Data.Item1 == target && row.Data.Item2.Contains("corpus", StringComparison.Ordinal));
        }
    }

    private static async Task DecodeAsync(byte[] input)
    {
        try
        {
            using DecodedImage image = await new ImageDecoder(new ImageLimits()).DecodeAsync(input, TestContext.Current.CancellationToken);
        }
        catch (ImageRejectedException)
        {
        }
    }

    private static void Coco(byte[] input)
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

    private static async Task ZipAsync(byte[] input)
    {
        try
        {
            using PairArchive archive = PairArchive.Open(input, imagesAllowed: true, maxPairs: 64);
            foreach (ArchivePair pair in archive.Pairs)
            {
                using PooledBytes truth = await PairArchive.ReadAsync(pair.GroundTruth, pair.Name, 1 << 20, TestContext.Current.CancellationToken);
                using PooledBytes other = await PairArchive.ReadAsync(pair.Prediction, pair.Name, 1 << 20, TestContext.Current.CancellationToken);
            }
        }
        catch (Exception ex) when (ex is EvaluationInputException or ImageRejectedException { Reason: ImageRejection.TooManyBytes })
        {
        }
    }
}
