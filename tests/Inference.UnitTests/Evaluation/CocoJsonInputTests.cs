using System.Text;
using SegServe.Inference.Evaluation;
using SegServe.Inference.Evaluation.Instances;

namespace SegServe.Inference.UnitTests.Evaluation;

/// <summary>COCO JSON from a hostile client: every type or range fault is an <see cref="EvaluationInputException"/> naming its JSON path.</summary>
public sealed class CocoJsonInputTests
{
    private const string Image = """{"id":1,"height":10,"width":10}""";
    private const string Square = """[[1,1,5,1,5,5,1,5]]""";

    public static TheoryData<string, EvaluationFault, string> BadGroundTruth => new()
    {
        { """{"images":{},"annotations":[]}""", EvaluationFault.UnreadableFile, "groundTruth images must be an array, not an object" },
        { """{"images":[IMAGE],"annotations":[],"categories":5}""", EvaluationFault.UnreadableFile, "groundTruth categories must be an array, not a number" },
        { """{"images":[IMAGE],"annotations":"x"}""", EvaluationFault.UnreadableFile, "groundTruth annotations must be an array" },
        { """{"images":[{"id":1,"height":-10,"width":10}],"annotations":[]}""", EvaluationFault.CannotScore, "groundTruth images[0].height = -10" },
        { """{"images":[{"id":1,"height":10,"width":2147483648}],"annotations":[]}""", EvaluationFault.CannotScore, "groundTruth images[0].width" },
        { """{"images":[{"id":1,"height":65536,"width":65536}],"annotations":[]}""", EvaluationFault.CannotScore, "groundTruth images[0] is 65536×65536" },
        { """{"images":[{"id":1e30,"height":10,"width":10}],"annotations":[]}""", EvaluationFault.CannotScore, "groundTruth images[0].id" },
        { """{"images":[IMAGE,IMAGE],"annotations":[]}""", EvaluationFault.CannotScore, "groundTruth images[1].id: image 1 is listed twice" },
        { """{"images":[IMAGE],"annotations":[{"id":1,"image_id":1,"category_id":1,"iscrowd":1e10,"segmentation":SQUARE}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].iscrowd must be 0 or 1" },
        { """{"images":[IMAGE],"annotations":[{},{"id":1e30,"image_id":1,"category_id":1,"segmentation":SQUARE}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].image_id" },
        { """{"images":[IMAGE],"annotations":[{"id":1e30,"image_id":1,"category_id":1,"segmentation":SQUARE}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].id" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"area":-1,"segmentation":SQUARE}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].area" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":[[0,0,0,-3e8,1,0]]}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation[0][3] = -300000000 is far outside the 10×10 image" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":[[-1e9,0,5,5,0,5]]}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation[0][0]" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":[[0,0,"5",5,0,5]]}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation[0][2] must be a number, not a string" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":[5]}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation[0] must be an array" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":{"size":[10,10],"counts":[10,5]}}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation cannot be read: The RLE runs cover 15 pixels, not 10×10" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":{"size":[10,10],"counts":[4294967295,4294967295,4294967295]}}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation cannot be read: The RLE runs cover" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":{"size":[10,10],"counts":[-1,101]}}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation.counts[0] must be a whole number" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":{"size":[10,10],"counts":["a"]}}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation.counts[0]" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":{"size":["10",10],"counts":[100]}}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation.size must be [height, width]" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":{"size":[100000,100000],"counts":"0"}}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation: the mask is 100000×100000" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":{"size":[10,10],"counts":"zzzz"}}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation cannot be read" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":{"size":[10,10],"counts":{}}}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation.counts must be a string" },
        { """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":"x"}]}""", EvaluationFault.CannotScore, "groundTruth annotations[0].segmentation must be polygons" },
        { """{"images":[IMAGE],"categories":[{"id":1,"name":"\udc00"}],"annotations":[]}""", EvaluationFault.UnreadableFile, "groundTruth categories[0].name is not a valid string" },
    };

    [Theory]
    [MemberData(nameof(BadGroundTruth))]
    public void GroundTruth_TypeAndRangeFaults_NameTheirPath(string json, EvaluationFault fault, string message)
    {
        EvaluationInputException refused = Assert.Throws<EvaluationInputException>(() => CocoJson.ReadGroundTruth(Bytes(json), "groundTruth", 40_000_000, 100));

        Assert.Equal(fault, refused.Fault);
        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GroundTruth_NotUtf8_IsUnreadable()
    {
        byte[] json = Bytes("""{"images":[IMAGE],"categories":[{"id":1,"name":"?"}],"annotations":[]}""");
        json[Array.IndexOf(json, (byte)'?')] = 0xff;

        Assert.Equal(EvaluationFault.UnreadableFile, Assert.Throws<EvaluationInputException>(() => CocoJson.ReadGroundTruth(json, "groundTruth")).Fault);
    }

    [Fact]
    public void GroundTruth_MoreCategoriesThanAllowed_IsRefused_ListedOrNot()
    {
        string listed = """{"images":[IMAGE],"annotations":[],"categories":[{"id":1},{"id":2},{"id":3}]}""";
        string used = """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"segmentation":SQUARE},{"image_id":1,"category_id":2,"segmentation":SQUARE},{"image_id":1,"category_id":3,"segmentation":SQUARE}]}""";

        Assert.Contains("categories[2]: the file has more than 2 categories", Assert.Throws<EvaluationInputException>(() => CocoJson.ReadGroundTruth(Bytes(listed), "groundTruth", 100, 2)).Message, StringComparison.Ordinal);
        Assert.Contains("annotations[2].category_id: the file has more than 2 categories", Assert.Throws<EvaluationInputException>(() => CocoJson.ReadGroundTruth(Bytes(used), "groundTruth", 100, 2)).Message, StringComparison.Ordinal);
        Assert.Equal([1L, 2L, 3L], CocoJson.ReadGroundTruth(Bytes(used), "groundTruth", 100, 3).CategoryIds);
    }

    [Fact]
    public void GroundTruth_PolygonsOutsideButWithinReach_AreClippedToTheImage()
    {
        // Reach is 2× the larger side: −20…30 on a 10×10 image. The square covers the image wherever it reaches.
        string json = """{"images":[IMAGE],"annotations":[{"image_id":1,"category_id":1,"iscrowd":true,"segmentation":[[-20,-20,30,-20,30,30,-20,30]]}]}""";

        CocoGroundTruth truth = CocoJson.ReadGroundTruth(Bytes(json), "groundTruth");

        GroundTruthInstance instance = Assert.Single(truth.Instances);
        Assert.Equal(100, instance.Mask.Area);
        Assert.True(instance.IsCrowd);
    }

    public static TheoryData<string, EvaluationFault, string> BadPredictions => new()
    {
        { """{"instances":{}}""", EvaluationFault.UnreadableFile, "predictions instances must be an array, not an object" },
        { """{"instances":[5]}""", EvaluationFault.CannotScore, "predictions instances[0] has no 'mask'" },
        { """{"instances":[{"classId":1.5,"score":1,"mask":{"size":[10,10],"counts":[100]}}]}""", EvaluationFault.CannotScore, "predictions instances[0].classId" },
        { """{"instances":[{"classId":1,"score":"high","mask":{"size":[10,10],"counts":[100]}}]}""", EvaluationFault.CannotScore, "predictions instances[0].score" },
        { """[5]""", EvaluationFault.CannotScore, "predictions[0].image_id" },
        { """[{"image_id":1,"category_id":1,"score":1,"segmentation":[[0,0,0,-3e8,1,0]]}]""", EvaluationFault.CannotScore, "predictions[0].segmentation[0][3]" },
        { """[{"image_id":1,"category_id":1,"score":1e400,"segmentation":[[0,0,1,0,0,1]]}]""", EvaluationFault.CannotScore, "predictions[0].score" },
        { """{"masks":[]}""", EvaluationFault.UnreadableFile, "neither COCO results" },
    };

    [Theory]
    [MemberData(nameof(BadPredictions))]
    public void Predictions_TypeAndRangeFaults_NameTheirPath(string json, EvaluationFault fault, string message)
    {
        var sizes = new Dictionary<long, (int, int)> { [1] = (10, 10) };

        EvaluationInputException refused = Assert.Throws<EvaluationInputException>(() => CocoJson.ReadDetections(System.Text.Encoding.UTF8.GetBytes(json), "predictions", sizes, 1));

        Assert.Equal(fault, refused.Fault);
        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Masks_HoldingMoreRunsThanAFileMay_AreRefusedWithoutAllocatingTheClaimedSize()
    {
        // Each 1×N mask alternates 0/1 runs of one pixel; 40 instances of 500k runs pass 16 Mi runs.
        const int Width = 500_000;
        var json = new StringBuilder("""{"instances":[""");
        string counts = string.Join(",", Enumerable.Repeat("1", Width));
        for (int i = 0; i < 40; i++)
        {
            json.Append(i == 0 ? "" : ",").Append("""{"classId":1,"score":1,"mask":{"size":[1,""").Append(Width).Append("""],"counts":[""").Append(counts).Append("]}}");
        }

        json.Append("]}");
        var sizes = new Dictionary<long, (int, int)> { [1] = (1, Width) };

        EvaluationInputException refused = Assert.Throws<EvaluationInputException>(() => CocoJson.ReadDetections(System.Text.Encoding.UTF8.GetBytes(json.ToString()), "predictions", sizes, 1));

        Assert.Contains($"the masks of the file hold more than {CocoJson.MaxMaskRuns} runs", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>The JSON with IMAGE (a 10×10 image with id 1) and SQUARE (a polygon inside it) filled in.</summary>
    private static byte[] Bytes(string json) =>
        System.Text.Encoding.UTF8.GetBytes(json.Replace("IMAGE", Image, StringComparison.Ordinal).Replace("SQUARE", Square, StringComparison.Ordinal));
}
