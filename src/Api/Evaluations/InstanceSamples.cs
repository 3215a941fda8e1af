using System.Text.Json;
using SegServe.Inference.Evaluation.Instances;
using SegServe.Inference.Masks;

namespace SegServe.Api.Evaluations;

/// <summary>
/// An instance sample as stored in a run: its images, categories, ground truth and detections, masks as compressed
/// RLE. COCO AP cannot be summed sample by sample (matching and precision are over all detections by score), so a
/// run keeps the instances and evaluates all samples' images together when asked.
/// </summary>
public static class InstanceSamples
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public static byte[] Serialize(CocoGroundTruth truth, IReadOnlyList<DetectedInstance> detections)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(detections);
        var payload = new Payload(
            [.. truth.ImageIds.Select(id => new PayloadImage(id, truth.ImageSizes[id].Height, truth.ImageSizes[id].Width))],
            [.. truth.CategoryIds.Select(id => new PayloadCategory(id, truth.CategoryNames.GetValueOrDefault(id)))],
            [.. truth.Instances.Select(g => new PayloadTruth(g.Id, g.ImageId, g.CategoryId, g.Area, g.IsCrowd, g.Mask.ToCompressedString()))],
            [.. detections.Select(d => new PayloadDetection(d.ImageId, d.CategoryId, d.Score, d.Mask.ToCompressedString()))]);
        return JsonSerializer.SerializeToUtf8Bytes(payload, s_json);
    }

    /// <summary>All samples together, each sample's images renumbered so that ids from different samples never collide.</summary>
    public static (CocoGroundTruth Truth, List<DetectedInstance> Detections) Combine(IEnumerable<byte[]> payloads)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        var imageIds = new List<long>();
        var sizes = new Dictionary<long, (int, int)>();
        var categories = new SortedSet<long>();
        var names = new Dictionary<long, string>();
        var truth = new List<GroundTruthInstance>();
        var detections = new List<DetectedInstance>();
        long nextImage = 1;
        long nextTruth = 1;
        foreach (byte[] bytes in payloads)
        {
            Payload payload = JsonSerializer.Deserialize<Payload>(bytes, s_json) ?? throw new InvalidDataException("An instance sample's payload is empty.");
            var remap = new Dictionary<long, long>();
            foreach (PayloadImage image in payload.Images)
            {
                remap[image.Id] = nextImage;
                imageIds.Add(nextImage);
                sizes[nextImage] = (image.Height, image.Width);
                nextImage++;
            }

            foreach (PayloadCategory category in payload.Categories)
            {
                categories.Add(category.Id);
                if (category.Name is not null)
                {
                    names.TryAdd(category.Id, category.Name);
                }
            }

            foreach (PayloadTruth g in payload.Truth)
            {
                long image = remap[g.ImageId];
                (int h, int w) = sizes[image];
                truth.Add(new GroundTruthInstance(nextTruth++, image, g.CategoryId, CocoRle.FromCompressedString(g.Counts, h, w), g.Area, g.Crowd));
            }

            foreach (PayloadDetection d in payload.Detections)
            {
                long image = remap[d.ImageId];
                (int h, int w) = sizes[image];
                detections.Add(new DetectedInstance(image, d.CategoryId, CocoRle.FromCompressedString(d.Counts, h, w), d.Score));
            }
        }

        return (new CocoGroundTruth(imageIds, sizes, [.. categories], names, truth), detections);
    }

    private sealed record Payload(List<PayloadImage> Images, List<PayloadCategory> Categories, List<PayloadTruth> Truth, List<PayloadDetection> Detections);

    private sealed record PayloadImage(long Id, int Height, int Width);

    private sealed record PayloadCategory(long Id, string? Name);

    private sealed record PayloadTruth(long Id, long ImageId, long CategoryId, double Area, bool Crowd, string Counts);

    private sealed record PayloadDetection(long ImageId, long CategoryId, double Score, string Counts);
}
