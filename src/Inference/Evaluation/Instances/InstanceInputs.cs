using SegServe.Inference.Memory;

namespace SegServe.Inference.Evaluation.Instances;

/// <summary>
/// The two sides of an instance evaluation read from what a client uploads: ground truth as COCO annotations JSON, or
/// as a 16-bit instance-id PNG with a PNG of class indices; detections as COCO results JSON or this service's own
/// instance response.
/// </summary>
public static class InstanceInputs
{
    /// <param name="predictions">COCO results JSON or an instance response.</param>
    /// <param name="groundTruth">COCO annotations JSON, or an instance-id PNG.</param>
    /// <param name="classMap">With a PNG ground truth: the class of each pixel (PNG); otherwise unused.</param>
    /// <param name="imageId">Image id of a service-format prediction and of a PNG ground truth.</param>
    /// <param name="maxPixels">Largest label map accepted, and largest image a COCO file may declare.</param>
    /// <param name="maxCategories">Most categories (classes) the ground truth may have: the scores hold arrays per category.</param>
    /// <exception cref="EvaluationInputException">A file cannot be read, is missing, or does not fit the other.</exception>
    public static (CocoGroundTruth Truth, List<DetectedInstance> Detections) Read(
        ReadOnlyMemory<byte> predictions,
        ReadOnlyMemory<byte> groundTruth,
        ReadOnlyMemory<byte>? classMap,
        long imageId,
        long maxPixels,
        int maxCategories = ScoringSettings.MaxClasses)
    {
        CocoGroundTruth truth;
        if (groundTruth.Length > 0 && groundTruth.Span[0] == 0x89)
        {
            if (classMap is not ReadOnlyMemory<byte> classes)
            {
                throw new EvaluationInputException(EvaluationFault.MissingFile, "A PNG ground truth of instance ids needs 'classMap', a PNG of class indices of the same size.");
            }

            using Plane<ushort> ids = LabelMapReader.Read(groundTruth, "groundTruth", null, maxPixels);
            using Plane<ushort> classIds = LabelMapReader.Read(classes, "classMap", null, maxPixels);
            truth = CocoJson.FromInstanceMaps(ids, classIds, imageId, maxCategories);
        }
        else
        {
            truth = CocoJson.ReadGroundTruth(groundTruth, "groundTruth", maxPixels, maxCategories);
        }

        return (truth, CocoJson.ReadDetections(predictions, "predictions", truth.ImageSizes, imageId));
    }
}
